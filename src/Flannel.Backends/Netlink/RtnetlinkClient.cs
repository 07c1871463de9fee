namespace Flannel.Backends.Netlink;

/// <summary>
/// Typed rtnetlink operations for IPv4: links, addresses and routes, synchronously (each is one request the kernel
/// answers at once, so they are fine to call from async control-plane code). Thread-safe: requests are serialised
/// on one socket.
/// </summary>
/// <remarks>
/// The socket belongs to the network namespace of the thread that called <see cref="Open"/>, for its whole life, so
/// an instance opened inside a namespace keeps working there from any thread.
/// Errors: <see cref="NetlinkException"/> when the kernel refuses a request (its <see cref="NetlinkException.Errno"/>
/// and extended-ack text say why); <see cref="FormatException"/> only if a kernel reply were malformed.
/// </remarks>
public sealed partial class RtnetlinkClient : IDisposable
{
    private readonly RtnetlinkSocket _socket;
    private readonly Lock _lock = new();

    private RtnetlinkClient(RtnetlinkSocket socket) => _socket = socket;

    /// <summary>Opens a NETLINK_ROUTE socket in the calling thread's network namespace.</summary>
    /// <exception cref="NetlinkException">The socket could not be created or bound.</exception>
    public static RtnetlinkClient Open() => new(RtnetlinkSocket.Open());

    public void Dispose() => _socket.Dispose();

    private void Request(NetlinkMessageBuilder request, string operation, NetlinkReplyHandler? onReply = null)
    {
        lock (_lock)
        {
            _socket.Request(request, operation, onReply);
        }
    }

    private List<T> Dump<T>(NetlinkMessageBuilder request, string operation, NetlinkDumpParser<T> parse)
    {
        lock (_lock)
        {
            return _socket.Dump(request, operation, parse);
        }
    }
}
