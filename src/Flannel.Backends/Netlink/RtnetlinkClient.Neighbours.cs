using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;
using Tmds.Linux;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// <c>ip neigh replace ADDRESS lladdr MAC dev #linkIndex nud permanent</c>: creates the ARP (IPv4) or NDP (IPv6)
    /// entry or overwrites the one for that address.
    /// </summary>
    public void ReplaceNeighbour(int linkIndex, IpAddress address, PhysicalAddress mac) =>
        Execute(NetlinkRequest.ReplaceNeighbour(linkIndex, address, mac));

    /// <summary><c>ip neigh del ADDRESS dev #linkIndex</c>; ENOENT when there is no such entry.</summary>
    public void DeleteNeighbour(int linkIndex, IpAddress address) =>
        Execute(NetlinkRequest.DeleteNeighbour(linkIndex, address));

    /// <summary>The neighbour entries of one family of one link (<c>ip -4 neigh show dev X</c>, <c>ip -6 ...</c>).</summary>
    public IReadOnlyList<Neighbour> ListNeighbours(int linkIndex, IpFamily family = IpFamily.Ip4)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        var all = Dump<Neighbour>(RtnetlinkRequests.DumpNeighbours(RtnetlinkRequests.Family(family)), "list neighbours",
            RtnetlinkMessages.TryReadIpNeighbour);
        return all.FindAll(n => n.LinkIndex == linkIndex);
    }
}
