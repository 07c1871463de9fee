using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Vxlan;

/// <summary>An existing vxlan link, as <c>ip -d link show</c> shows it.</summary>
/// <param name="Index">The interface index.</param>
/// <param name="Name">IFLA_IFNAME.</param>
/// <param name="Vni">IFLA_VXLAN_ID.</param>
/// <param name="Local">IFLA_VXLAN_LOCAL or IFLA_VXLAN_LOCAL6, null when unset.</param>
/// <param name="ParentIndex">IFLA_VXLAN_LINK, 0 when unset.</param>
/// <param name="Port">IFLA_VXLAN_PORT: the destination port in effect (8472 when created without one).</param>
/// <param name="Learning">IFLA_VXLAN_LEARNING.</param>
/// <param name="Gbp">IFLA_VXLAN_GBP present.</param>
/// <param name="Mtu">IFLA_MTU.</param>
/// <param name="Mac">IFLA_ADDRESS.</param>
/// <param name="IsUp">Administratively up (IFF_UP).</param>
public sealed record VxlanInfo(
    int Index,
    string Name,
    uint Vni,
    IpAddress? Local,
    int ParentIndex,
    ushort Port,
    bool Learning,
    bool Gbp,
    int Mtu,
    PhysicalAddress? Mac,
    bool IsUp);
