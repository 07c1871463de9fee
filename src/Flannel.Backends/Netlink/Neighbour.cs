using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>An IPv4 neighbour (ARP) entry, as <c>ip neigh show dev X</c> shows it.</summary>
/// <param name="LinkIndex">ndm_ifindex.</param>
/// <param name="Address">NDA_DST.</param>
/// <param name="Mac">NDA_LLADDR, null for an entry without one (INCOMPLETE, FAILED).</param>
/// <param name="State">ndm_state (NUD_*), e.g. <see cref="NudPermanent"/>.</param>
public sealed record Neighbour(int LinkIndex, Ip4Address Address, PhysicalAddress? Mac, ushort State)
{
    /// <summary>NUD_PERMANENT: a static entry, never aged out (<c>nud permanent</c>).</summary>
    public const ushort NudPermanent = 0x80;

    public override string ToString() =>
        $"{Address} lladdr {MacText.Format(Mac)} dev #{LinkIndex} state 0x{State:x2}";
}

/// <summary>A forwarding database entry of a bridge or vxlan link, as <c>bridge fdb show dev X</c> shows it.</summary>
/// <param name="LinkIndex">ndm_ifindex.</param>
/// <param name="Mac">NDA_LLADDR.</param>
/// <param name="Destination">NDA_DST: the remote VTEP of a vxlan entry; null when there is none (or it is IPv6).</param>
/// <param name="State">ndm_state (NUD_*): <see cref="Neighbour.NudPermanent"/> for <c>permanent</c>.</param>
/// <param name="Flags">ndm_flags (NTF_*): 0x02 NTF_SELF for entries of the device itself (<c>self</c>).</param>
public sealed record FdbEntry(int LinkIndex, PhysicalAddress Mac, Ip4Address? Destination, ushort State, byte Flags)
{
    public override string ToString() =>
        $"{MacText.Format(Mac)} dst {Destination?.ToString() ?? "-"} dev #{LinkIndex} state 0x{State:x2} flags 0x{Flags:x2}";
}

/// <summary>MAC addresses the way <c>ip</c> prints them: lower case, colon separated.</summary>
internal static class MacText
{
    public static string Format(PhysicalAddress? mac) =>
        mac is null ? "-" : string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
