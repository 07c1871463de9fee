using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// A vxlan link to create (<c>ip link add NAME type vxlan id VNI local LOCAL dev PARENT dstport PORT [no]learning
/// [gbp]</c>), as flannel's vxlan backend makes <c>flannel.VNI</c>.
/// </summary>
/// <param name="Name">The link name, at most 15 bytes.</param>
/// <param name="Vni">The VXLAN network identifier, below 2^24.</param>
/// <param name="Local">The source address of the encapsulated packets (IFLA_VXLAN_LOCAL, or IFLA_VXLAN_LOCAL6 for an IPv6
/// underlay as flannel-v6.VNI has); the zero address leaves it unset.</param>
/// <param name="ParentIndex">The underlay link (IFLA_VXLAN_LINK); 0 leaves it unset.</param>
/// <param name="Port">The UDP destination port; 0 is not sent, so the kernel's default applies (8472, its legacy
/// port, not IANA's 4789), as flannel does for <c>"Port": 0</c>.</param>
/// <param name="Learning">Learn remote MACs from received packets (flannel: false, <c>nolearning</c>).</param>
/// <param name="Gbp">Group Based Policy extension (IFLA_VXLAN_GBP).</param>
/// <param name="Mtu">The link MTU; 0 is not sent, so the kernel derives it (parent MTU - 50).</param>
/// <param name="Mac">The link's MAC address; null lets the kernel pick a random one.</param>
public sealed record VxlanSpec(
    string Name,
    uint Vni,
    IpAddress Local,
    int ParentIndex,
    ushort Port,
    bool Learning,
    bool Gbp,
    int Mtu,
    PhysicalAddress? Mac = null);
