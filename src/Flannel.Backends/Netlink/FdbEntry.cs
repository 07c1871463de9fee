using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>A forwarding database entry of a bridge or vxlan link, as <c>bridge fdb show dev X</c> shows it.</summary>
/// <param name="LinkIndex">ndm_ifindex.</param>
/// <param name="Mac">NDA_LLADDR.</param>
/// <param name="Destination">NDA_DST: the remote VTEP of a vxlan entry (IPv4 or IPv6); null when there is none.</param>
/// <param name="State">ndm_state (NUD_*): <see cref="Neighbour.NudPermanent"/> for <c>permanent</c>.</param>
/// <param name="Flags">ndm_flags (NTF_*): 0x02 NTF_SELF for entries of the device itself (<c>self</c>).</param>
public sealed record FdbEntry(int LinkIndex, PhysicalAddress Mac, IpAddress? Destination, ushort State, byte Flags)
{
    public override string ToString() =>
        $"{MacText.Format(Mac)} dst {Destination?.ToString() ?? "-"} dev #{LinkIndex} state 0x{State:x2} flags 0x{Flags:x2}";
}
