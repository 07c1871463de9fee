namespace Flannel.Backends;

/// <summary>
/// One backend type (udp, vxlan, host-gw). <see cref="RegisterNetworkAsync"/> prepares what must exist before the lease
/// is written (vxlan's device and MAC) and says what to publish; flannel's <c>RegisterNetwork</c> without the lease.
/// </summary>
public interface IBackend
{
    string Type { get; }

    Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct);
}
