using System.Buffers.Binary;
using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// The net-unreachable flanneld's proxy writes back into the TUN for a packet without a route (compat §6), byte for
/// byte, and the cases where no error is due.
/// </summary>
[Unit]
public class IcmpNetUnreachableTests
{
    private static readonly uint Tun = TestPacket.Ip(IcmpGolden.TunAddress);

    [Fact]
    public void Reply_to_a_UDP_probe_matches_the_golden_bytes()
    {
        var reply = new byte[IcmpNetUnreachable.MaxLength];
        int n = IcmpNetUnreachable.Write(IcmpGolden.Offender(), Tun, reply);
        Assert.Equal(56, n);
        Assert.Equal(Convert.ToHexString(IcmpGolden.Reply()), Convert.ToHexString(reply, 0, n));
    }

    [Fact]
    public void Reply_fields_one_by_one()
    {
        // The same bytes as the golden test, spelled out so a failure says which field is wrong.
        var offender = IcmpGolden.Offender();
        var reply = new byte[IcmpNetUnreachable.MaxLength];
        int n = IcmpNetUnreachable.Write(offender, Tun, reply);
        var ip = reply.AsSpan(0, 20);
        Assert.Equal(0x45, ip[0]);                                              // v4, IHL 5
        Assert.Equal(0, ip[1]);                                                 // TOS
        Assert.Equal(56, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));        // total length
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));         // id 0
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(ip[6..]));         // no DF, no offset
        Assert.Equal(8, ip[8]);                                                 // TTL 8
        Assert.Equal(1, ip[9]);                                                 // ICMP
        Assert.True(TestPacket.IpChecksumValid(ip));
        Assert.Equal(new byte[] { 10, 6, 93, 0 }, ip[12..16].ToArray());        // source: the TUN address
        Assert.Equal(new byte[] { 10, 6, 93, 1 }, ip[16..20].ToArray());        // destination: the offender's source
        var icmp = reply.AsSpan(20, n - 20);
        Assert.Equal(3, icmp[0]);                                               // destination unreachable
        Assert.Equal(0, icmp[1]);                                               // net unreachable
        Assert.Equal(0xFFFF, TestPacket.ReferenceSum(icmp));                    // valid ICMP checksum
        Assert.Equal(new byte[4], icmp[4..8].ToArray());                        // unused
        Assert.Equal(offender.AsSpan(0, 28).ToArray(), icmp[8..].ToArray());    // header + first 8 bytes
    }

    [Fact]
    public void Header_with_options_is_quoted_whole_plus_8_bytes()
    {
        // 36 bytes of options (IHL 14), where flanneld replies too: its send_net_unreachable refuses ihl*4 >= 20 +
        // MAX_IPOPTLEN, i.e. only IHL 15, which this test leaves open.
        var offender = TestPacket.Ipv4(17, TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"), new byte[30], optionBytes: 36);
        var reply = new byte[IcmpNetUnreachable.MaxLength];
        int n = IcmpNetUnreachable.Write(offender, Tun, reply);
        Assert.Equal(20 + 8 + 56 + 8, n);
        Assert.Equal(offender.AsSpan(0, 64).ToArray(), reply.AsSpan(28, 64).ToArray());
        Assert.True(TestPacket.IpChecksumValid(reply));
        Assert.Equal(0xFFFF, TestPacket.ReferenceSum(reply.AsSpan(20, n - 20)));
    }

    [Fact]
    public void Offender_shorter_than_header_plus_8_is_quoted_as_far_as_it_goes()
    {
        var offender = TestPacket.Ipv4(17, TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"), new byte[3]);
        var reply = new byte[IcmpNetUnreachable.MaxLength];
        int n = IcmpNetUnreachable.Write(offender, Tun, reply);
        Assert.Equal(20 + 8 + 23, n);
        Assert.Equal(n, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(2)));
        Assert.Equal(offender, reply.AsSpan(28, 23).ToArray());
        Assert.Equal(0xFFFF, TestPacket.ReferenceSum(reply.AsSpan(20, n - 20))); // odd length: padded
    }

    [Fact]
    public void First_fragment_with_MF_still_gets_a_reply()
    {
        var offender = TestPacket.Udp(TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"), 40000, 53, new byte[100],
            flagsAndOffset: 0x2000);
        Assert.Equal(56, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }

    [Fact]
    public void No_reply_about_ICMP()
    {
        var offender = TestPacket.IcmpEcho(TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"));
        Assert.Equal(0, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }

    [Fact]
    public void No_reply_about_a_non_first_fragment()
    {
        var offender = TestPacket.Udp(TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"), 40000, 53, new byte[100],
            flagsAndOffset: 185);
        Assert.Equal(0, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }

    [Fact]
    public void No_reply_when_the_destination_buffer_is_too_short()
    {
        var reply = new byte[55];
        Assert.Equal(0, IcmpNetUnreachable.Write(IcmpGolden.Offender(), Tun, reply));
        Assert.Equal(new byte[55], reply); // and nothing was written
    }

    [Fact]
    public void No_reply_for_an_offender_shorter_than_an_IPv4_header()
    {
        Assert.Equal(0, IcmpNetUnreachable.Write(IcmpGolden.Offender().AsSpan(0, 19), Tun, new byte[IcmpNetUnreachable.MaxLength]));
        Assert.Equal(0, IcmpNetUnreachable.Write([], Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }

    [Fact]
    public void No_reply_for_a_header_length_below_20()
    {
        var offender = IcmpGolden.Offender();
        offender[0] = 0x44;
        Assert.Equal(0, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }

    [Fact]
    public void No_reply_about_a_header_with_the_maximum_40_bytes_of_options_as_flanneld()
    {
        // flanneld's send_net_unreachable returns early when ihl*4 >= 20 + MAX_IPOPTLEN.
        var offender = new byte[60 + 8 + 16];
        IcmpGolden.Offender().AsSpan(0, 20).CopyTo(offender);
        offender[0] = 0x4F;
        offender[2] = 0;
        offender[3] = (byte)offender.Length;
        Assert.Equal(0, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
        offender[0] = 0x4E; // 56 bytes of header: still answered
        Assert.NotEqual(0, IcmpNetUnreachable.Write(offender, Tun, new byte[IcmpNetUnreachable.MaxLength]));
    }
}
