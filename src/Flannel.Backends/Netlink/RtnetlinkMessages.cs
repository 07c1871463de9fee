using System.Diagnostics.CodeAnalysis;
using System.Net.NetworkInformation;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Decodes rtnetlink messages (dump parts, GET replies and multicast events alike) into the public records. Throws
/// only <see cref="FormatException"/>, on malformed messages.
/// </summary>
internal static partial class RtnetlinkMessages
{
    /// <summary>
    /// A unicast route of the main table (IPv4 or IPv6): what <c>ip route show</c> lists and flannel manages. Skipped: other
    /// tables (local/broadcast routes live in table local), other types (blackhole, unreachable, ...), and cached
    /// clones (RTM_F_CLONED).
    /// </summary>
    public static bool TryReadMainRoute(NetlinkMessage message, [NotNullWhen(true)] out Route? route)
    {
        route = null;
        if (message.Type is not (RTM_NEWROUTE or RTM_DELROUTE))
        {
            return false;
        }
        var header = message.ReadHeader<rtmsg>();
        if ((header.rtm_family != LibC.AF_INET && header.rtm_family != LibC.AF_INET6) || header.rtm_type != RTN_UNICAST ||
            (header.rtm_flags & RTM_F_CLONED) != 0)
        {
            return false;
        }
        var candidate = ReadRoute(message, out uint table);
        if (table != RT_TABLE_MAIN)
        {
            return false;
        }
        route = candidate;
        return true;
    }

    /// <summary>Any IPv4 or IPv6 route message, unfiltered (an RTM_GETROUTE answer is a cached clone, maybe in table local).</summary>
    public static Route ReadRoute(NetlinkMessage message, out uint table)
    {
        var header = message.ReadHeader<rtmsg>();
        bool v6 = header.rtm_family == LibC.AF_INET6;
        if ((header.rtm_family != LibC.AF_INET && !v6) || header.rtm_dst_len > (v6 ? 128 : 32))
        {
            throw new FormatException($"netlink: route family {header.rtm_family} /{header.rtm_dst_len} is neither IPv4 nor IPv6");
        }
        table = header.rtm_table;
        IpAddress destination = v6 ? new Ip6Address(UInt128.Zero) : Ip4Address.Zero;
        IpAddress? gateway = null, source = null;
        int linkIndex = 0;
        foreach (var attribute in message.Attributes<rtmsg>())
        {
            switch (attribute.Type)
            {
                case RTA_DST:
                    destination = Address(attribute, v6);
                    break;
                case RTA_GATEWAY:
                    gateway = Address(attribute, v6);
                    break;
                case RTA_OIF:
                    linkIndex = attribute.GetS32();
                    break;
                case RTA_PREFSRC:
                    source = Address(attribute, v6);
                    break;
                case RTA_TABLE:
                    // Table ids above 255 only fit here; rtm_table then says RT_TABLE_UNSPEC.
                    table = attribute.GetU32();
                    break;
            }
        }
        return new Route(
            new IpNetwork(destination, header.rtm_dst_len),
            gateway,
            linkIndex,
            (RouteScope)header.rtm_scope,
            (header.rtm_flags & RTNH_F_ONLINK) != 0,
            header.rtm_protocol,
            table <= byte.MaxValue ? (byte)table : RT_TABLE_UNSPEC)
        {
            Source = source,
        };
    }

    /// <summary>
    /// A link message of family AF_UNSPEC; the bridge's per-port messages (family AF_BRIDGE, also on RTNLGRP_LINK)
    /// describe port state, not the link, and are skipped.
    /// </summary>
    public static bool TryReadLink(NetlinkMessage message, [NotNullWhen(true)] out LinkInfo? link)
    {
        link = null;
        if (message.Type is not (RTM_NEWLINK or RTM_DELLINK))
        {
            return false;
        }
        var header = message.ReadHeader<ifinfomsg>();
        if (header.ifi_family != LibC.AF_UNSPEC)
        {
            return false;
        }
        string name = "";
        int mtu = 0;
        PhysicalAddress? hardwareAddress = null;
        string? kind = null;
        foreach (var attribute in message.Attributes<ifinfomsg>())
        {
            switch (attribute.Type)
            {
                case IFLA_IFNAME:
                    name = attribute.GetString();
                    break;
                case IFLA_MTU:
                    mtu = (int)attribute.GetU32();
                    break;
                case IFLA_ADDRESS when !attribute.Value.IsEmpty:
                    hardwareAddress = new PhysicalAddress(attribute.Value.ToArray());
                    break;
                case IFLA_LINKINFO:
                    kind = ReadLinkKind(attribute.Nested);
                    break;
            }
        }
        link = new LinkInfo(header.ifi_index, name, (LinkFlags)header.ifi_flags, mtu, hardwareAddress, kind);
        return true;
    }

    /// <summary>An IPv4 or IPv6 address message; other families are skipped.</summary>
    public static bool TryReadAddress(NetlinkMessage message, [NotNullWhen(true)] out AddressInfo? address)
    {
        address = null;
        if (message.Type is not (RTM_NEWADDR or RTM_DELADDR))
        {
            return false;
        }
        var header = message.ReadHeader<ifaddrmsg>();
        bool v6 = header.ifa_family == LibC.AF_INET6;
        if (header.ifa_family != LibC.AF_INET && !v6)
        {
            return false;
        }
        if (header.ifa_prefixlen > (v6 ? 128 : 32))
        {
            throw new FormatException($"netlink: {(v6 ? "IPv6" : "IPv4")} address with prefix length {header.ifa_prefixlen}");
        }
        IpAddress? local = null, peer = null;
        string? label = null;
        foreach (var attribute in message.Attributes<ifaddrmsg>())
        {
            switch (attribute.Type)
            {
                case IFA_LOCAL:
                    local = Address(attribute, v6);
                    break;
                case IFA_ADDRESS:
                    peer = Address(attribute, v6);
                    break;
                case IFA_LABEL:
                    label = attribute.GetString();
                    break;
            }
        }
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the same except on point-to-point links, where it
        // is the peer. Either may be missing (if_addr.h); IPv6 sends IFA_ADDRESS alone.
        var ip = local ?? peer ?? throw new FormatException("netlink: address message without IFA_LOCAL or IFA_ADDRESS");
        address = new AddressInfo((int)header.ifa_index, new IpNetwork(ip, header.ifa_prefixlen), (RouteScope)header.ifa_scope, label);
        return true;
    }

    /// <summary>An address attribute of a message of a known family: its length must be that family's.</summary>
    private static IpAddress Address(NetlinkAttribute attribute, bool v6)
    {
        var ip = attribute.GetIp();
        return ip.IsIp6 == v6 ? ip : throw new FormatException($"netlink: a {ip.Length}-byte address in an {(v6 ? "IPv6" : "IPv4")} message");
    }

    private static string? ReadLinkKind(NetlinkAttributeReader linkInfo)
    {
        foreach (var attribute in linkInfo)
        {
            if (attribute.Type == IFLA_INFO_KIND)
            {
                return attribute.GetString();
            }
        }
        return null;
    }
}
