using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Reads this host's kernel state over rtnetlink (read-only: dumps and lookups, nothing is changed).</summary>
internal static class KernelReader
{
    /// <param name="device">The backend's device (flannel.VNI, flannel-v6.VNI, flannel0), or null for host-gw.</param>
    /// <param name="vxlan">The device must be a vxlan link; a link of another kind by that name counts as missing.</param>
    /// <param name="directRoutingPeers">PublicIPs to ask <c>ip route get</c> about (vxlan DirectRouting), else empty.</param>
    /// <param name="ownPublicIp">This host's PublicIP (PublicIPv6), when known: the link holding it is the external interface.</param>
    /// <param name="family">The family of the addresses, routes and neighbours read.</param>
    /// <exception cref="NetlinkException">The kernel refused a dump.</exception>
    public static KernelSnapshot Read(string? device, bool vxlan, IEnumerable<IpAddress> directRoutingPeers, IpAddress? ownPublicIp,
        IpFamily family = IpFamily.Ip4)
    {
        using var rtnl = RtnetlinkClient.Open();
        StatusDevice? found = null;
        if (device is not null)
        {
            if (vxlan)
            {
                found = rtnl.GetVxlan(device) is { } v ? new StatusDevice(v.Name, v.Index) : null;
            }
            else
            {
                found = rtnl.GetLink(device) is { } l ? new StatusDevice(l.Name, l.Index) : null;
            }
        }
        var links = rtnl.ListLinks().ToDictionary(l => l.Index, l => l.Name);
        var routes = rtnl.ListRoutes(family).Where(r => r.Table == RouteTable.Main).ToList();
        var addresses = rtnl.ListAddresses(family: family);
        IReadOnlyList<AddressInfo> deviceAddresses = found is null ? [] : [.. addresses.Where(a => a.LinkIndex == found.Index)];
        int externalLink = ownPublicIp is { } ip ? addresses.FirstOrDefault(a => a.Address.Ip == ip)?.LinkIndex ?? 0 : 0;
        IReadOnlyList<Neighbour> neighbours = found is null ? [] : rtnl.ListNeighbours(found.Index, family);
        IReadOnlyList<FdbEntry> fdb = found is null ? [] : rtnl.ListFdb(found.Index);
        // flanneld's DirectRouting test: the kernel reaches the peer without a gateway, so it is on our L2 network.
        var reachable = directRoutingPeers.Distinct().Where(peer => rtnl.GetRouteTo(peer) is { Gateway: null }).ToHashSet();
        return new KernelSnapshot(found, routes, deviceAddresses, neighbours, fdb, links, reachable, externalLink);
    }
}
