namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// Carries out many changes with few system calls: the requests are packed up to 64 (or 32 KiB) to a send(2),
    /// each acknowledged on its own, so one failing does not stop the others. Returns one entry per request, in
    /// order: null when it succeeded, else the kernel's error for it (as the single-request method would throw).
    /// </summary>
    /// <exception cref="NetlinkException">The socket itself failed: which requests took effect is unknown (list the
    /// state again).</exception>
    public IReadOnlyList<NetlinkException?> Batch(IReadOnlyList<NetlinkRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        for (int i = 0; i < requests.Count; i++)
        {
            if (requests[i] is null)
            {
                throw new ArgumentException($"request {i} is null", nameof(requests));
            }
        }
        if (requests.Count == 0)
        {
            return [];
        }
        lock (_lock)
        {
            return _socket.Batch(requests);
        }
    }

    /// <summary>One request, its error thrown.</summary>
    private void Execute(NetlinkRequest request)
    {
        var error = Batch([request])[0];
        if (error is not null)
        {
            throw error;
        }
    }
}
