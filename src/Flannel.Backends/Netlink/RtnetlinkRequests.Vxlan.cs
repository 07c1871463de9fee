using Flannel.Backends.Vxlan;
using Flannel.Backends.Interop;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

internal static partial class RtnetlinkRequests
{
    /// <summary>
    /// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL for kind "vxlan", the attributes flannel's Go netlink sends: a zero
    /// port, MTU, local address or parent is left out so the kernel's default applies.
    /// </summary>
    public static NetlinkMessageBuilder CreateVxlan(VxlanSpec spec)
    {
        var request = new NetlinkMessageBuilder(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        request.AddHeader(new ifinfomsg { ifi_family = (byte)LibC.AF_UNSPEC });
        request.AddString(IFLA_IFNAME, spec.Name);
        if (spec.Mtu > 0)
        {
            request.AddU32(IFLA_MTU, (uint)spec.Mtu);
        }
        if (spec.Mac is { } mac)
        {
            request.AddAttribute(IFLA_ADDRESS, mac.GetAddressBytes());
        }
        int linkInfo = request.BeginNested(IFLA_LINKINFO);
        request.AddString(IFLA_INFO_KIND, "vxlan");
        int data = request.BeginNested(IFLA_INFO_DATA);
        request.AddU32(IFLA_VXLAN_ID, spec.Vni);
        if (!spec.Local.IsZero)
        {
            request.AddIp(spec.Local.IsIp6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, spec.Local);
        }
        if (spec.ParentIndex > 0)
        {
            request.AddU32(IFLA_VXLAN_LINK, (uint)spec.ParentIndex);
        }
        if (spec.Port != 0)
        {
            request.AddU16BigEndian(IFLA_VXLAN_PORT, spec.Port);
        }
        request.AddU8(IFLA_VXLAN_LEARNING, spec.Learning ? (byte)1 : (byte)0);
        if (spec.Gbp)
        {
            request.AddAttribute(IFLA_VXLAN_GBP, []);
        }
        request.EndNested(data);
        request.EndNested(linkInfo);
        return request;
    }

    public static NetlinkMessageBuilder DeleteLink(int index)
    {
        var request = new NetlinkMessageBuilder(RTM_DELLINK);
        request.AddHeader(new ifinfomsg { ifi_family = (byte)LibC.AF_UNSPEC, ifi_index = index });
        return request;
    }
}
