using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// <c>bridge fdb replace MAC dev #linkIndex dst DESTINATION self permanent</c>: frames for <paramref name="mac"/>
    /// go to the VTEP at <paramref name="destination"/> (flannel's vxlan FDB entry, via Go netlink's NeighSet).
    /// </summary>
    public void ReplaceFdb(int linkIndex, PhysicalAddress mac, IpAddress destination) =>
        Execute(NetlinkRequest.ReplaceFdb(linkIndex, mac, destination));

    /// <summary><c>bridge fdb del MAC dev #linkIndex dst DESTINATION self</c>; ENOENT when there is no such entry.</summary>
    public void DeleteFdb(int linkIndex, PhysicalAddress mac, IpAddress destination) =>
        Execute(NetlinkRequest.DeleteFdb(linkIndex, mac, destination));

    /// <summary>The FDB entries of one link (<c>bridge fdb show dev X</c>); a vxlan MAC with several remotes gives
    /// one entry per remote.</summary>
    public IReadOnlyList<FdbEntry> ListFdb(int linkIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        var all = Dump<FdbEntry>(RtnetlinkRequests.DumpNeighbours(AF_BRIDGE), "list fdb", RtnetlinkMessages.TryReadFdbEntry);
        return all.FindAll(e => e.LinkIndex == linkIndex);
    }
}
