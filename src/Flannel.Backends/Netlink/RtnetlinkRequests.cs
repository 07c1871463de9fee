using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

/// <summary>Builds the rtnetlink requests <see cref="RtnetlinkClient"/> sends.</summary>
internal static partial class RtnetlinkRequests
{
    // IFLA_EXT_MASK / RTEXT_FILTER_SKIP_STATS: leave the large per-link statistics out of link replies (what iproute2
    // asks for too); kernels that predate the flag ignore it.
    private const ushort IFLA_EXT_MASK = 29;
    private const uint RTEXT_FILTER_SKIP_STATS = 1 << 3;

    /// <summary>
    /// RTM_NEWROUTE / RTM_DELROUTE. A delete matches like <c>ip route del</c>: scope RT_SCOPE_NOWHERE, type and
    /// protocol unspecified mean "any" to fib_table_delete(), so a route is found whoever installed it; destination,
    /// table, gateway and output link narrow the match.
    /// </summary>
    public static NetlinkMessageBuilder Route(ushort type, ushort flags, Route route)
    {
        bool delete = type == RTM_DELROUTE;
        if ((route.Gateway is { } gw && gw.Family != route.Family) || (route.Source is { } src && src.Family != route.Family))
        {
            throw new ArgumentException($"route {route} mixes IPv4 and IPv6", nameof(route));
        }
        var request = new NetlinkMessageBuilder(type, flags);
        request.AddHeader(new rtmsg
        {
            rtm_family = Family(route.Family),
            rtm_dst_len = (byte)route.Destination.PrefixLength,
            rtm_table = route.Table,
            rtm_protocol = delete ? RTPROT_UNSPEC : route.Protocol,
            rtm_scope = delete ? RT_SCOPE_NOWHERE : (byte)route.Scope,
            rtm_type = delete ? RTN_UNSPEC : RTN_UNICAST,
            rtm_flags = route.OnLink ? RTNH_F_ONLINK : 0,
        });
        if (route.Destination.PrefixLength > 0)
        {
            request.AddIp(RTA_DST, route.Destination.Ip);
        }
        if (route.Gateway is { } gateway)
        {
            request.AddIp(RTA_GATEWAY, gateway);
        }
        if (route.LinkIndex > 0)
        {
            request.AddU32(RTA_OIF, (uint)route.LinkIndex);
        }
        if (route.Source is { } source)
        {
            request.AddIp(RTA_PREFSRC, source);
        }
        return request;
    }

    /// <summary>RTM_GETROUTE for one address: the kernel resolves it like a packet would be (<c>ip route get</c>).</summary>
    public static NetlinkMessageBuilder RouteTo(IpAddress destination)
    {
        var request = new NetlinkMessageBuilder(RTM_GETROUTE);
        request.AddHeader(new rtmsg { rtm_family = Family(destination.Family), rtm_dst_len = (byte)(destination.Length * 8) });
        request.AddIp(RTA_DST, destination);
        return request;
    }

    public static NetlinkMessageBuilder DumpRoutes(IpFamily family)
    {
        var request = new NetlinkMessageBuilder(RTM_GETROUTE);
        request.AddHeader(new rtmsg { rtm_family = Family(family) });
        return request;
    }

    /// <summary>AF_INET or AF_INET6.</summary>
    public static byte Family(IpFamily family) => (byte)(family == IpFamily.Ip6 ? LibC.AF_INET6 : LibC.AF_INET);

    public static NetlinkMessageBuilder DumpLinks()
    {
        var request = new NetlinkMessageBuilder(RTM_GETLINK);
        request.AddHeader(new ifinfomsg { ifi_family = (byte)LibC.AF_UNSPEC });
        request.AddU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        return request;
    }

    /// <summary>RTM_GETLINK by name (IFLA_IFNAME) or, with a null name, by index.</summary>
    public static NetlinkMessageBuilder GetLink(int index, string? name)
    {
        var request = new NetlinkMessageBuilder(RTM_GETLINK);
        request.AddHeader(new ifinfomsg { ifi_family = (byte)LibC.AF_UNSPEC, ifi_index = index });
        if (name is not null)
        {
            request.AddString(IFLA_IFNAME, name);
        }
        request.AddU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        return request;
    }

    /// <summary>RTM_NEWLINK on an existing link changes only what ifi_change selects and the attributes given.</summary>
    public static NetlinkMessageBuilder ChangeLink(int index, uint flags = 0, uint change = 0)
    {
        var request = new NetlinkMessageBuilder(RTM_NEWLINK);
        request.AddHeader(new ifinfomsg
        {
            ifi_family = (byte)LibC.AF_UNSPEC,
            ifi_index = index,
            ifi_flags = flags,
            ifi_change = change,
        });
        return request;
    }

    public static NetlinkMessageBuilder DumpAddresses(IpFamily family)
    {
        var request = new NetlinkMessageBuilder(RTM_GETADDR);
        request.AddHeader(new ifaddrmsg { ifa_family = Family(family) });
        return request;
    }

    /// <summary>
    /// RTM_NEWADDR / RTM_DELADDR with IFA_LOCAL and IFA_ADDRESS both the address (not point-to-point). A new IPv4
    /// address below /31 also gets its broadcast address, as <c>ip addr add ... brd +</c> and Go's netlink.AddrAdd do.
    /// </summary>
    public static NetlinkMessageBuilder Address(ushort type, ushort flags, int linkIndex, IpNetwork address)
    {
        var request = new NetlinkMessageBuilder(type, flags);
        request.AddHeader(new ifaddrmsg
        {
            ifa_family = Family(address.Family),
            ifa_prefixlen = (byte)address.PrefixLength,
            ifa_index = (uint)linkIndex,
        });
        request.AddIp(IFA_LOCAL, address.Ip);
        request.AddIp(IFA_ADDRESS, address.Ip);
        if (type == RTM_NEWADDR && !address.IsIp6 && address.PrefixLength < 31)
        {
            var v4 = address.Ip4;
            request.AddIp4(IFA_BROADCAST, new Ip4Address(v4.Ip.Value | ~v4.Mask));
        }
        return request;
    }
}
