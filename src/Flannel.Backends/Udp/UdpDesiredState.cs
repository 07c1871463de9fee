using Flannel.Backends.KernelState;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.Udp;

/// <summary>
/// udp's one derivation of the kernel entries it wants: the TUN device flannel0 with our lease's .0/32 and the route
/// <c>Network dev flannel0</c>. Peers live in the pump's peer table, so none has a kernel entry; a lease of another
/// backend type never reaches the pump (the lease manager's peer watch refuses it, as it does for every backend). <see cref="UdpNetwork"/> keeps it, <c>flanneld status</c> checks it.
/// </summary>
public static class UdpDesiredState
{
    public const string DeviceName = "flannel0";

    public static DesiredState For(Ip4Network network, Ip4Network? ownSubnet, IEnumerable<Lease> peers)
    {
        IReadOnlyList<IpNetwork> addresses = ownSubnet is { } own ? [new Ip4Network(own.Network.Ip, 32)] : [];
        // Every address on flannel0 is ours to keep or remove (scope 0.0.0.0/0).
        return new DesiredState(DeviceName, BackendTypes.Udp, network, addresses, new Ip4Network(new Ip4Address(0), 0),
            [new DesiredRoute(network, null, 0, OnDevice: true)], [],
            [.. peers.Select(Skip)]);
    }

    private static SkippedPeer Skip(Lease peer) =>
        string.Equals(peer.Attrs.BackendType ?? BackendTypes.Udp, BackendTypes.Udp, StringComparison.OrdinalIgnoreCase)
            ? new SkippedPeer(peer, "udp peers live in the daemon's memory", InDaemon: true)
            : new SkippedPeer(peer, $"backend type {peer.Attrs.BackendType}, this host runs udp");
}
