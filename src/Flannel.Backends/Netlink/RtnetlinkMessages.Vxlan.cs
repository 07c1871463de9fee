using Flannel.Backends.Vxlan;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

internal static partial class RtnetlinkMessages
{
    /// <summary>A link message of a link of kind "vxlan", with its IFLA_INFO_DATA decoded; other links are skipped.</summary>
    public static bool TryReadVxlan(NetlinkMessage message, [NotNullWhen(true)] out VxlanInfo? vxlan)
    {
        // The link fields are TryReadLink's; only IFLA_INFO_DATA is vxlan's own.
        vxlan = null;
        if (!TryReadLink(message, out var link) || link.Kind != "vxlan")
        {
            return false;
        }
        uint vni = 0;
        IpAddress? local = null;
        int parent = 0;
        ushort port = 0;
        bool learning = false, gbp = false;
        foreach (var attribute in message.Attributes<ifinfomsg>())
        {
            if (attribute.Type != IFLA_LINKINFO)
            {
                continue;
            }
            foreach (var info in attribute.Nested)
            {
                if (info.Type != IFLA_INFO_DATA)
                {
                    continue;
                }
                foreach (var data in info.Nested)
                {
                    switch (data.Type)
                    {
                        case IFLA_VXLAN_ID:
                            vni = data.GetU32();
                            break;
                        case IFLA_VXLAN_LOCAL:
                            local = data.GetIp4();
                            break;
                        case IFLA_VXLAN_LOCAL6:
                            local = data.GetIp();
                            break;
                        case IFLA_VXLAN_LINK:
                            parent = data.GetS32();
                            break;
                        case IFLA_VXLAN_PORT:
                            port = BinaryPrimitives.ReadUInt16BigEndian(data.Value.Length == 2
                                ? data.Value
                                : throw new FormatException($"netlink: IFLA_VXLAN_PORT has {data.Value.Length} bytes"));
                            break;
                        case IFLA_VXLAN_LEARNING:
                            learning = data.GetU8() != 0;
                            break;
                        case IFLA_VXLAN_GBP:
                            gbp = true;
                            break;
                    }
                }
            }
        }
        vxlan = new VxlanInfo(link.Index, link.Name, vni, local, parent, port, learning, gbp, link.Mtu, link.HardwareAddress, link.IsUp);
        return true;
    }
}
