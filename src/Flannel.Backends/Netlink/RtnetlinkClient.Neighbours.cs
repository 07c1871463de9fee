using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;
using Tmds.Linux;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// <c>ip neigh replace ADDRESS lladdr MAC dev #linkIndex nud permanent</c>: creates the ARP entry or overwrites
    /// the one for that address.
    /// </summary>
    public void ReplaceNeighbour(int linkIndex, Ip4Address address, PhysicalAddress mac) =>
        Execute(NetlinkRequest.ReplaceNeighbour(linkIndex, address, mac));

    /// <summary><c>ip neigh del ADDRESS dev #linkIndex</c>; ENOENT when there is no such entry.</summary>
    public void DeleteNeighbour(int linkIndex, Ip4Address address) =>
        Execute(NetlinkRequest.DeleteNeighbour(linkIndex, address));

    /// <summary>The IPv4 neighbour (ARP) entries of one link (<c>ip -4 neigh show dev X</c>).</summary>
    public IReadOnlyList<Neighbour> ListNeighbours(int linkIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        var all = Dump<Neighbour>(RtnetlinkRequests.DumpNeighbours((byte)LibC.AF_INET), "list neighbours", RtnetlinkMessages.TryReadArpNeighbour);
        return all.FindAll(n => n.LinkIndex == linkIndex);
    }
}
