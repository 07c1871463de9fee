using System.Buffers.Binary;
using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Tests.Netlink;

[Unit]
public class NetlinkMessageBuilderTests
{
    [Fact]
    public void Header_length_is_patched_and_every_part_is_4_byte_aligned()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWROUTE, NLM_F_CREATE);
        builder.AddHeader(new rtmsg { rtm_family = 2, rtm_dst_len = 24 });
        builder.AddIp4(RTA_DST, Ip4Address.Parse("10.5.2.0"));
        builder.AddString(IFLA_IFNAME, "veth0");  // 6 bytes with NUL: nla_len 10, padded to 12
        builder.AddU8(99, 7);                     // nla_len 5, padded to 8
        builder.SetSequence(42);
        builder.AddFlags(NLM_F_REQUEST | NLM_F_ACK);

        var message = builder.Message;

        Assert.Equal(16 + 12 + 8 + 12 + 8, message.Length);
        Assert.Equal((uint)message.Length, BinaryPrimitives.ReadUInt32LittleEndian(message));
        Assert.Equal(RTM_NEWROUTE, BinaryPrimitives.ReadUInt16LittleEndian(message[4..]));
        Assert.Equal(NLM_F_CREATE | NLM_F_REQUEST | NLM_F_ACK, BinaryPrimitives.ReadUInt16LittleEndian(message[6..]));
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(message[8..]));
        // The string attribute: length 10 (header + "veth0\0"), then two zero padding bytes.
        var ifname = message[(16 + 12 + 8)..];
        Assert.Equal(10, BinaryPrimitives.ReadUInt16LittleEndian(ifname));
        Assert.Equal("veth0\0\0\0"u8.ToArray(), ifname[4..12].ToArray());
        // Network byte order for the address.
        Assert.Equal(new byte[] { 10, 5, 2, 0 }, message[(16 + 12 + 4)..(16 + 12 + 8)].ToArray());
    }

    [Fact]
    public void Round_trip_through_the_reader()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWROUTE);
        builder.AddHeader(new rtmsg { rtm_family = 2, rtm_dst_len = 24, rtm_table = RT_TABLE_MAIN, rtm_flags = RTNH_F_ONLINK });
        builder.AddIp4(RTA_DST, Ip4Address.Parse("10.5.2.0"));
        builder.AddIp4(RTA_GATEWAY, Ip4Address.Parse("198.51.100.2"));
        builder.AddU32(RTA_OIF, 3);
        builder.AddU16(200, 0x1234);
        builder.AddU16BigEndian(201, 8472);
        builder.AddString(202, "");

        var reader = new NetlinkMessageReader(builder.Message);
        Assert.True(reader.MoveNext());
        var message = reader.Current;
        Assert.Equal(RTM_NEWROUTE, message.Type);
        var header = message.ReadHeader<rtmsg>();
        Assert.Equal(24, header.rtm_dst_len);
        Assert.Equal(RTNH_F_ONLINK, header.rtm_flags);
        var seen = new List<string>();
        foreach (var attribute in message.Attributes<rtmsg>())
        {
            seen.Add(attribute.Type switch
            {
                RTA_DST or RTA_GATEWAY => $"{attribute.Type}={attribute.GetIp4()}",
                RTA_OIF => $"oif={attribute.GetU32()}",
                200 => $"u16={attribute.GetU16():x}",
                201 => $"be16={BinaryPrimitives.ReadUInt16BigEndian(attribute.Value)}",
                202 => $"str='{attribute.GetString()}'",
                _ => "?",
            });
        }
        Assert.Equal(["1=10.5.2.0", "5=198.51.100.2", "oif=3", "u16=1234", "be16=8472", "str=''"], seen);
        Assert.False(reader.MoveNext());
    }

    [Fact]
    public void Nested_attributes_carry_NLA_F_NESTED_and_their_total_length()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        builder.AddHeader(new ifinfomsg());
        builder.AddString(IFLA_IFNAME, "flannel.1");
        int linkInfo = builder.BeginNested(IFLA_LINKINFO);
        builder.AddString(IFLA_INFO_KIND, "vxlan");
        int data = builder.BeginNested(IFLA_INFO_DATA);
        builder.AddU32(1, 1);                  // IFLA_VXLAN_ID
        builder.AddU16BigEndian(15, 8472);     // IFLA_VXLAN_PORT
        builder.EndNested(data);
        builder.EndNested(linkInfo);
        builder.AddU32(IFLA_MTU, 1450);

        var reader = new NetlinkMessageReader(builder.Message);
        Assert.True(reader.MoveNext());
        string? kind = null;
        uint vni = 0, mtu = 0;
        ushort port = 0;
        foreach (var attribute in reader.Current.Attributes<ifinfomsg>())
        {
            if (attribute.Type == IFLA_LINKINFO)
            {
                Assert.True(attribute.IsNested);
                // nla_len 36: header 4 + kind "vxlan\0" (4 + 6, padded to 12) + data (4 + 8 + 8); the value is 32
                Assert.Equal(32, attribute.Value.Length);
                foreach (var info in attribute.Nested)
                {
                    if (info.Type == IFLA_INFO_KIND)
                    {
                        kind = info.GetString();
                    }
                    else if (info.Type == IFLA_INFO_DATA)
                    {
                        Assert.True(info.IsNested);
                        foreach (var vxlan in info.Nested)
                        {
                            if (vxlan.Type == 1)
                            {
                                vni = vxlan.GetU32();
                            }
                            else if (vxlan.Type == 15)
                            {
                                port = BinaryPrimitives.ReadUInt16BigEndian(vxlan.Value);
                            }
                        }
                    }
                }
            }
            else if (attribute.Type == IFLA_MTU)
            {
                mtu = attribute.GetU32();
            }
        }
        Assert.Equal("vxlan", kind);
        Assert.Equal(1u, vni);
        Assert.Equal(8472, port);
        Assert.Equal(1450u, mtu);
    }

    [Fact]
    public void A_datagram_with_several_messages_yields_each()
    {
        var first = new NetlinkMessageBuilder(RTM_NEWLINK, NLM_F_MULTI);
        first.AddHeader(new ifinfomsg { ifi_index = 1 });
        first.AddString(IFLA_IFNAME, "lo");
        var second = new NetlinkMessageBuilder(NLMSG_DONE, NLM_F_MULTI);
        second.AddAttribute(0, []);
        byte[] datagram = [.. first.Message, .. second.Message];

        var types = new List<ushort>();
        foreach (var message in new NetlinkMessageReader(datagram))
        {
            types.Add(message.Type);
        }

        Assert.Equal([RTM_NEWLINK, NLMSG_DONE], types);
    }

    [Fact]
    public void Oversized_attribute_is_refused()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWLINK);
        Assert.Throws<ArgumentException>(() => builder.AddAttribute(1, new byte[ushort.MaxValue]));
    }
}
