using Flannel.Backends.KernelState;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.HostGw;

/// <summary>
/// host-gw's one derivation of the kernel entries it wants: per host-gw peer the route <c>subnet via PublicIP dev
/// external-interface</c>; no device. <see cref="HostGwNetwork"/> programs it, <c>flanneld status</c> checks it.
/// </summary>
public static class HostGwDesiredState
{
    /// <param name="externalLink">The external interface's index, 0 when unknown (then a route on any link counts).</param>
    public static DesiredState For(Ip4Network network, IEnumerable<Lease> peers, int externalLink)
    {
        var desired = new List<DesiredPeer>();
        var skipped = new List<SkippedPeer>();
        foreach (var lease in peers)
        {
            if (Peer(lease, externalLink, out var reason) is { } peer)
            {
                desired.Add(peer);
            }
            else
            {
                skipped.Add(new SkippedPeer(lease, reason!));
            }
        }
        return new DesiredState(null, null, network, [], network, [], desired, skipped);
    }

    public static DesiredPeer? Peer(Lease lease, int externalLink, out string? skipped)
    {
        if (!string.Equals(lease.Attrs.BackendType, BackendTypes.HostGw, StringComparison.Ordinal))
        {
            skipped = $"backend {lease.Attrs.BackendType ?? BackendTypes.Udp}: host-gw ignores it";
            return null;
        }
        skipped = null;
        var route = new DesiredRoute(lease.Key.Subnet.Network, lease.Attrs.PublicIP, externalLink, OnDevice: false);
        return new DesiredPeer(lease, [], [], [route], OnDevice: false, $"route via {lease.Attrs.PublicIP}");
    }
}
