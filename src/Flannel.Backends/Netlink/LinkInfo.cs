using System.Net.NetworkInformation;

namespace Flannel.Backends.Netlink;

/// <summary>A network interface, as <c>ip link</c> shows it.</summary>
/// <param name="Index">The interface index (ifi_index).</param>
/// <param name="Name">IFLA_IFNAME.</param>
/// <param name="Flags">ifi_flags (IFF_*).</param>
/// <param name="Mtu">IFLA_MTU.</param>
/// <param name="HardwareAddress">IFLA_ADDRESS (the MAC of an Ethernet-like link), null when the link has none.</param>
/// <param name="Kind">IFLA_INFO_KIND ("veth", "bridge", "vxlan"), null for links without one (lo, physical NICs).</param>
public sealed record LinkInfo(
    int Index,
    string Name,
    LinkFlags Flags,
    int Mtu,
    PhysicalAddress? HardwareAddress,
    string? Kind)
{
    /// <summary>Administratively up (IFF_UP); carrier is <see cref="LinkFlags.LowerUp"/>.</summary>
    public bool IsUp => (Flags & LinkFlags.Up) != 0;
}
