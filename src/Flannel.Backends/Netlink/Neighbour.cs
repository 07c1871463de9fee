using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>An IPv4 (ARP) or IPv6 (NDP) neighbour entry, as <c>ip neigh show dev X</c> shows it.</summary>
/// <param name="LinkIndex">ndm_ifindex.</param>
/// <param name="Address">NDA_DST.</param>
/// <param name="Mac">NDA_LLADDR, null for an entry without one (INCOMPLETE, FAILED).</param>
/// <param name="State">ndm_state (NUD_*), e.g. <see cref="NudPermanent"/>.</param>
public sealed record Neighbour(int LinkIndex, IpAddress Address, PhysicalAddress? Mac, ushort State)
{
    /// <summary>NUD_PERMANENT: a static entry, never aged out (<c>nud permanent</c>).</summary>
    public const ushort NudPermanent = 0x80;

    public override string ToString() =>
        $"{Address} lladdr {MacText.Format(Mac)} dev #{LinkIndex} state 0x{State:x2}";
}
