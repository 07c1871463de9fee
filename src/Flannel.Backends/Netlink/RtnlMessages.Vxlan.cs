using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.NetworkInformation;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

internal static partial class RtnlMessages
{
    /// <summary>A link message of a link of kind "vxlan", with its IFLA_INFO_DATA decoded; other links are skipped.</summary>
    public static bool TryReadVxlan(NetlinkMessage message, [NotNullWhen(true)] out VxlanInfo? vxlan)
    {
        vxlan = null;
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
        PhysicalAddress? mac = null;
        bool isVxlan = false;
        uint vni = 0;
        Ip4Address? local = null;
        int parent = 0;
        ushort port = 0;
        bool learning = false, gbp = false;
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
                    mac = new PhysicalAddress(attribute.Value.ToArray());
                    break;
                case IFLA_LINKINFO:
                    foreach (var info in attribute.Nested)
                    {
                        if (info.Type == IFLA_INFO_KIND)
                        {
                            isVxlan = info.GetString() == "vxlan";
                        }
                        else if (info.Type == IFLA_INFO_DATA)
                        {
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
                    break;
            }
        }
        if (!isVxlan)
        {
            return false;
        }
        vxlan = new VxlanInfo(header.ifi_index, name, vni, local, parent, port, learning, gbp, mtu, mac, (header.ifi_flags & IFF_UP) != 0);
        return true;
    }
}
