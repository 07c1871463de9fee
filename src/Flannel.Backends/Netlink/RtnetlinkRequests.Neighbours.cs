using System.Net.NetworkInformation;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

internal static partial class RtnetlinkRequests
{
    /// <summary>
    /// RTM_NEWNEIGH / RTM_DELNEIGH of an ARP (IPv4) or NDP (IPv6) entry: <c>ip neigh replace ADDR lladdr MAC dev X
    /// nud permanent</c> (a null <paramref name="mac"/> for a delete). ndm_type RTN_UNICAST as flannel's NeighSet sends it.
    /// </summary>
    public static NetlinkMessageBuilder Neighbour(ushort type, ushort flags, int linkIndex, IpAddress address, PhysicalAddress? mac)
    {
        var request = new NetlinkMessageBuilder(type, flags);
        request.AddHeader(new ndmsg
        {
            ndm_family = Family(address.Family),
            ndm_ifindex = linkIndex,
            ndm_state = type == RTM_NEWNEIGH ? NUD_PERMANENT : (ushort)0,
            ndm_type = RTN_UNICAST,
        });
        request.AddIp(NDA_DST, address);
        if (mac is not null)
        {
            request.AddAttribute(NDA_LLADDR, mac.GetAddressBytes());
        }
        return request;
    }

    /// <summary>
    /// RTM_NEWNEIGH / RTM_DELNEIGH of a vxlan FDB entry (family AF_BRIDGE, NTF_SELF, NUD_PERMANENT, NDA_LLADDR +
    /// NDA_DST of either family): <c>bridge fdb replace MAC dev X dst IP self permanent</c>. A delete with NDA_DST removes only that
    /// remote of the MAC.
    /// </summary>
    public static NetlinkMessageBuilder Fdb(ushort type, ushort flags, int linkIndex, PhysicalAddress mac, IpAddress destination)
    {
        var request = new NetlinkMessageBuilder(type, flags);
        request.AddHeader(new ndmsg
        {
            ndm_family = AF_BRIDGE,
            ndm_ifindex = linkIndex,
            ndm_state = NUD_PERMANENT,
            ndm_flags = NTF_SELF,
        });
        request.AddAttribute(NDA_LLADDR, mac.GetAddressBytes());
        request.AddIp(NDA_DST, destination);
        return request;
    }

    /// <summary>
    /// RTM_GETNEIGH dump of one family. Only the bare header: without NETLINK_GET_STRICT_CHK the kernel ignores
    /// ndm_ifindex (and a bridge FDB dump would read a longer header as ifinfomsg), so callers filter by link.
    /// </summary>
    public static NetlinkMessageBuilder DumpNeighbours(byte family)
    {
        var request = new NetlinkMessageBuilder(RTM_GETNEIGH);
        request.AddHeader(new ndmsg { ndm_family = family });
        return request;
    }
}
