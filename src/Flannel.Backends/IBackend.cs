using Flannel.Backends.Host;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends;

/// <summary>What a backend is given when the daemon starts (flannel's <c>backend.Backend</c> inputs).</summary>
public sealed record BackendContext(ExternalInterface Iface, NetworkConfig Config, ILoggerFactory Logs)
{
    /// <summary>Reports liveness of the backend's loops (the daemon's /healthz reads it).</summary>
    public ILoopHealth Health { get; init; } = NullLoopHealth.Instance;

    /// <summary>Every clock and delay of the backend's control loops.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>vxlan: keep tx checksum offload on the device (<c>--vxlan-csum-offload</c>, default true).</summary>
    public bool VxlanChecksumOffload { get; init; } = true;

    /// <summary>udp: what a received datagram's sources must satisfy (<c>--udp-source-check</c>, default strict).</summary>
    public Udp.UdpSourceCheck UdpSourceCheck { get; init; } = Udp.UdpSourceCheck.Strict;
}

/// <summary>
/// One backend type (udp, vxlan, host-gw). <see cref="RegisterNetworkAsync"/> prepares what must exist before the lease
/// is written (vxlan's device and MAC) and says what to publish; flannel's <c>RegisterNetwork</c> without the lease.
/// </summary>
public interface IBackend
{
    string Type { get; }

    Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct);
}

/// <summary>The network a backend runs for this host's lease (flannel's <c>backend.Network</c>).</summary>
public interface IBackendNetwork : IAsyncDisposable
{
    /// <summary>The attrs to publish in our lease; the PublicIP follows the external interface's address.</summary>
    LeaseAttrs LeaseAttrs { get; }

    /// <summary>The MTU containers should use (FLANNEL_MTU).</summary>
    int Mtu { get; }

    /// <summary>Sets up host state for our lease (device address, routes); called again if the lease's subnet changes.</summary>
    Task ConfigureAsync(Lease lease, CancellationToken ct);

    /// <summary>Programs or removes what one batch of peer events needs. Handles (logs) its own per-peer failures.</summary>
    Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct);

    /// <summary>
    /// The external interface changed under us: it came back up, got its address back or a new one, or was deleted
    /// and created again with a new index. Rebuilds what is bound to it (a vxlan device's parent and local address,
    /// the udp socket's address) and puts back what the kernel dropped with the link (routes via it). Returns when
    /// the kernel holds the state again; <see cref="LeaseAttrs"/> then carries the new PublicIP, if it changed.
    /// </summary>
    Task ExternalInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct);

    /// <summary>Runs the backend's own loops (reconciliation, packet pumps) until cancelled.</summary>
    Task RunAsync(CancellationToken ct);
}

/// <summary>A backend failed in a way the daemon cannot go on from (bad options, missing kernel support).</summary>
public sealed class BackendException : Exception
{
    public BackendException(string message) : base(message) { }
    public BackendException(string message, Exception inner) : base(message, inner) { }
    public BackendException() { }
}
