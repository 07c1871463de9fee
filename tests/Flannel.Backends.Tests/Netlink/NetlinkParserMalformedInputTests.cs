using System.Buffers.Binary;
using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Tests.Netlink;

/// <summary>The readers throw FormatException on malformed input and nothing else, whatever the bytes.</summary>
[Unit]
public class NetlinkParserMalformedInputTests
{
    public static TheoryData<string, byte[]> MalformedDatagrams => new()
    {
        { "shorter than a header", new byte[10] },
        { "nlmsg_len below 16", Message(len: 8, total: 16) },
        { "nlmsg_len past the end", Message(len: 64, total: 32) },
        { "trailing bytes after a message", [.. Message(len: 16, total: 16), 1, 2, 3] },
    };

    public static TheoryData<string, byte[]> MalformedAttributes => new()
    {
        { "shorter than an attribute header", [4, 0] },
        { "nla_len below 4", [2, 0, 1, 0] },
        { "nla_len past the end", [12, 0, 1, 0, 0, 0, 0, 0] },
        { "stray bytes after the last attribute", [5, 0, 1, 0, 9, 0, 0, 0, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(MalformedDatagrams))]
    public void Malformed_datagrams_throw_FormatException(string why, byte[] datagram)
    {
        var e = Assert.Throws<FormatException>(() => CountMessages(datagram));
        Assert.False(string.IsNullOrEmpty(e.Message), why);
    }

    [Theory]
    [MemberData(nameof(MalformedAttributes))]
    public void Malformed_attributes_throw_FormatException(string why, byte[] attributes)
    {
        var e = Assert.Throws<FormatException>(() => CountAttributes(attributes));
        Assert.False(string.IsNullOrEmpty(e.Message), why);
    }

    [Fact]
    public void The_last_message_and_attribute_need_no_padding()
    {
        // nlmsg_len 21: a 5-byte attribute and no padding after it (the kernel pads, but the reader must not rely
        // on it).
        byte[] datagram = [21, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 0, 7];
        int attributes = 0;
        foreach (var message in new NetlinkMessageReader(datagram))
        {
            foreach (var attribute in new NetlinkAttributeReader(message.Payload))
            {
                Assert.Equal(7, attribute.GetU8());
                attributes++;
            }
        }
        Assert.Equal(1, attributes);
    }

    [Fact]
    public void Typed_getters_check_the_value_length()
    {
        byte[] twoBytes = [6, 0, 1, 0, 1, 2, 0, 0];
        Assert.Throws<FormatException>(() => FirstAttribute(twoBytes, a => a.GetU32()));
        Assert.Throws<FormatException>(() => FirstAttribute(twoBytes, a => a.GetIp4().Value));
        Assert.Throws<FormatException>(() => FirstAttribute(twoBytes, a => a.GetU8()));
        Assert.Equal(0x0201u, FirstAttribute(twoBytes, a => a.GetU16()));
    }

    [Fact]
    public void A_family_header_longer_than_the_payload_throws_FormatException()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWROUTE);
        builder.AddHeader(new ifaddrmsg());  // 8 bytes where an rtmsg needs 12
        Assert.Throws<FormatException>(() =>
        {
            foreach (var message in new NetlinkMessageReader(builder.Message))
            {
                message.ReadHeader<rtmsg>();
            }
        });
    }

    [Fact]
    public void Truncated_route_messages_never_throw_anything_but_FormatException()
    {
        var builder = new NetlinkMessageBuilder(RTM_NEWROUTE, NLM_F_MULTI);
        builder.AddHeader(new rtmsg { rtm_family = 2, rtm_dst_len = 24, rtm_table = RT_TABLE_MAIN, rtm_type = RTN_UNICAST });
        builder.AddIp4(RTA_DST, Ip4Address.Parse("10.5.2.0"));
        builder.AddIp4(RTA_GATEWAY, Ip4Address.Parse("198.51.100.2"));
        builder.AddU32(RTA_OIF, 3);
        byte[] valid = builder.Message.ToArray();

        for (int cut = 0; cut <= valid.Length; cut++)
        {
            byte[] truncated = valid[..cut];
            // Keep nlmsg_len consistent with the cut too, so the attribute walk (not only the header check) is hit.
            byte[] relabelled = (byte[])truncated.Clone();
            if (relabelled.Length >= 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(relabelled, (uint)relabelled.Length);
            }
            ParseRoutesExpectingOnlyFormatException(truncated);
            ParseRoutesExpectingOnlyFormatException(relabelled);
        }
    }

    [Fact]
    public void Random_bytes_never_throw_anything_but_FormatException()
    {
        var random = new Random(20261125);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] datagram = new byte[random.Next(0, 96)];
            random.NextBytes(datagram);
            if (datagram.Length >= 16 && random.Next(2) == 0)
            {
                // Plausible headers reach deeper: a length that fits and a route / link / address type.
                BinaryPrimitives.WriteUInt32LittleEndian(datagram, (uint)random.Next(16, datagram.Length + 1));
                BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(4), (ushort)random.Next(16, 26));
            }
            ParseRoutesExpectingOnlyFormatException(datagram);
        }
    }

    private static void ParseRoutesExpectingOnlyFormatException(byte[] datagram)
    {
        try
        {
            foreach (var message in new NetlinkMessageReader(datagram))
            {
                RtnetlinkMessages.TryReadMainRoute(message, out _);
                RtnetlinkMessages.TryReadLink(message, out _);
                RtnetlinkMessages.TryReadAddress(message, out _);
                NetlinkAck.Read(message);
            }
        }
        catch (FormatException)
        {
        }
    }

    private static byte[] Message(uint len, int total)
    {
        var bytes = new byte[total];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, len);
        return bytes;
    }

    private static int CountMessages(byte[] datagram)
    {
        int count = 0;
        foreach (var message in new NetlinkMessageReader(datagram))
        {
            count++;
        }
        return count;
    }

    private static int CountAttributes(byte[] attributes)
    {
        int count = 0;
        foreach (var attribute in new NetlinkAttributeReader(attributes))
        {
            count++;
        }
        return count;
    }

    private delegate T AttributeGetter<T>(NetlinkAttribute attribute);

    private static T FirstAttribute<T>(byte[] attributes, AttributeGetter<T> get)
    {
        var reader = new NetlinkAttributeReader(attributes);
        Assert.True(reader.MoveNext());
        return get(reader.Current);
    }
}
