using System.Net.NetworkInformation;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

internal static partial class RtnetlinkMessages
{
    /// <summary>A neighbour message of family AF_INET, AF_INET6 or AF_BRIDGE; other families are skipped.</summary>
    public static bool TryReadNeighbour(NetlinkMessage message, out NeighbourMessage neighbour)
    {
        neighbour = default;
        if (message.Type is not (RTM_NEWNEIGH or RTM_DELNEIGH))
        {
            return false;
        }
        var header = message.ReadHeader<ndmsg>();
        byte family = header.ndm_family;
        if (family != LibC.AF_INET && family != LibC.AF_INET6 && family != AF_BRIDGE)
        {
            return false;
        }
        int expected = family == LibC.AF_INET ? 4 : family == LibC.AF_INET6 ? 16 : 0;
        IpAddress? address = null;
        PhysicalAddress? mac = null;
        foreach (var attribute in message.Attributes<ndmsg>())
        {
            switch (attribute.Type)
            {
                case NDA_DST when attribute.Value.Length == expected || (expected == 0 && attribute.Value.Length is 4 or 16):
                    address = attribute.GetIp();
                    break;
                case NDA_DST when expected != 0:
                    throw new FormatException($"netlink: neighbour of family {header.ndm_family} with a {attribute.Value.Length}-byte NDA_DST");
                case NDA_LLADDR when !attribute.Value.IsEmpty:
                    mac = new PhysicalAddress(attribute.Value.ToArray());
                    break;
            }
        }
        neighbour = new NeighbourMessage(
            message.Type == RTM_DELNEIGH, header.ndm_family, header.ndm_ifindex, header.ndm_state, header.ndm_flags, address, mac);
        return true;
    }

    /// <summary>An ARP (IPv4) or NDP (IPv6) entry with its address.</summary>
    public static bool TryReadIpNeighbour(NetlinkMessage message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Neighbour? neighbour)
    {
        neighbour = null;
        if (!TryReadNeighbour(message, out var m) || (m.Family != LibC.AF_INET && m.Family != LibC.AF_INET6) || m.Address is not { } address)
        {
            return false;
        }
        neighbour = new Neighbour(m.LinkIndex, address, m.Mac, m.State);
        return true;
    }

    /// <summary>An FDB entry with its MAC.</summary>
    public static bool TryReadFdbEntry(NetlinkMessage message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FdbEntry? entry)
    {
        entry = null;
        if (!TryReadNeighbour(message, out var m) || m.Family != AF_BRIDGE || m.Mac is not { } mac)
        {
            return false;
        }
        entry = new FdbEntry(m.LinkIndex, mac, m.Address, m.State, m.Flags);
        return true;
    }
}
