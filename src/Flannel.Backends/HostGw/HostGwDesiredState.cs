using Flannel.Backends.KernelState;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.HostGw;

/// <summary>
/// host-gw's one derivation of the kernel entries it wants, per family: per host-gw peer the route <c>subnet via
/// PublicIP dev external-interface</c>, and on a dual-stack network also <c>IPv6 subnet via PublicIPv6</c> (flanneld's
/// GetV6Route); no device. <see cref="HostGwNetwork"/> programs it, <c>flanneld status</c> checks it.
/// </summary>
public static class HostGwDesiredState
{
    /// <param name="network">The Network (IPv4) or IPv6Network: its family is the family derived.</param>
    /// <param name="externalLink">The external interface's index, 0 when unknown (then a route on any link counts).</param>
    public static DesiredState For(IpNetwork network, IEnumerable<Lease> peers, int externalLink)
    {
        var desired = new List<DesiredPeer>();
        var skipped = new List<SkippedPeer>();
        foreach (var lease in peers)
        {
            if (Peer(lease, network.Family, externalLink, out var reason) is { } peer)
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

    public static DesiredPeer? Peer(Lease lease, IpFamily family, int externalLink, out string? skipped)
    {
        if (!string.Equals(lease.Attrs.BackendType, BackendTypes.HostGw, StringComparison.Ordinal))
        {
            skipped = $"backend {lease.Attrs.BackendType ?? BackendTypes.Udp}: host-gw ignores it";
            return null;
        }
        if (lease.Key.SubnetOf(family) is not { } subnet || lease.Attrs.PublicIPOf(family) is not { } publicIp)
        {
            skipped = lease.Key.Ipv6Subnet is null ? "no IPv6 subnet: reached over IPv4 only" : "no PublicIPv6: reached over IPv4 only";
            return null;
        }
        skipped = null;
        var route = new DesiredRoute(subnet, publicIp, externalLink, OnDevice: false);
        return new DesiredPeer(lease, [], [], [route], OnDevice: false, $"route via {publicIp}") { Family = family };
    }
}
