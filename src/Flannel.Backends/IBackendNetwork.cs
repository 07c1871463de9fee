using Flannel.Backends.Interfaces;
using Flannel.Subnet.Leases;

namespace Flannel.Backends;

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
