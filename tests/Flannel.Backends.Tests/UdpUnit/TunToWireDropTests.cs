using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// What the TUN-side step drops, and that each drop moves its own counter by exactly one and queues nothing; a packet
/// without a route leaves an ICMP net-unreachable to write back (compat §6).
/// </summary>
[Unit]
public sealed class TunToWireDropTests : IDisposable
{
    private readonly TunToWire _pump = new(port: 8285, vnetHeader: true, gso: true) { TunAddress = TunAddress };

    public void Dispose() => _pump.Dispose();

    private TunVerdict Process(byte[] frame, int slot = 0)
    {
        frame.CopyTo(_pump.ReadBuffer(slot));
        return _pump.Process(slot, frame.Length, Table);
    }

    private void AssertDropped(byte[] frame, DropReason reason, TunVerdict verdict = TunVerdict.Dropped)
    {
        var before = Drops(_pump.Counters);
        Assert.Equal(verdict, Process(frame));
        AssertOneDrop(before, _pump.Counters, reason);
        Assert.Equal(0, _pump.Batch.Count);
        Assert.Equal(0, _pump.Counters.Packets);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]   // not even a virtio header
    [InlineData(10)]  // a header and nothing else
    [InlineData(29)]  // a header and 19 bytes
    public void Shorter_than_an_IPv4_header_is_TooShort(int length)
    {
        var frame = TestPacket.Frame(TestPacket.Udp(Local, PeerA, 1, 2, new byte[20]));
        AssertDropped(frame[..length], DropReason.TooShort);
    }

    [Fact]
    public void IPv6_is_NotIpv4()
    {
        AssertDropped(TestPacket.Frame(TestPacket.Ipv6()), DropReason.NotIpv4);
    }

    [Fact]
    public void No_route_is_Unreachable_with_the_golden_ICMP_behind_a_zero_vnet_header()
    {
        AssertDropped(TestPacket.Frame(IcmpGolden.Offender()), DropReason.NoRoute, TunVerdict.Unreachable);
        var icmp = _pump.Icmp.ToArray();
        Assert.Equal(new byte[10], icmp[..10]);
        Assert.Equal(Convert.ToHexString(IcmpGolden.Reply()), Convert.ToHexString(icmp[10..]));
    }

    [Fact]
    public void No_route_for_ICMP_is_Dropped_without_a_reply()
    {
        // After an Unreachable the pending reply must not linger for the next packet.
        Assert.Equal(TunVerdict.Unreachable, Process(TestPacket.Frame(IcmpGolden.Offender())));
        AssertDropped(TestPacket.Frame(TestPacket.IcmpEcho(Local, TestPacket.Ip("10.6.200.1"))), DropReason.NoRoute);
        Assert.Equal(0, _pump.Icmp.Length);
    }

    [Fact]
    public void No_route_for_a_non_first_fragment_is_Dropped_without_a_reply()
    {
        var fragment = TestPacket.Udp(Local, TestPacket.Ip("10.6.200.1"), 1, 2, new byte[40], flagsAndOffset: 100);
        AssertDropped(TestPacket.Frame(fragment), DropReason.NoRoute);
        Assert.Equal(0, _pump.Icmp.Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void TTL_that_would_reach_0_is_TtlExpired(byte ttl)
    {
        AssertDropped(TestPacket.Frame(TestPacket.Udp(Local, PeerA, 1, 2, new byte[20], ttl)), DropReason.TtlExpired);
    }

    [Theory]
    [InlineData(3)]    // VIRTIO_NET_HDR_GSO_UDP
    [InlineData(4)]    // VIRTIO_NET_HDR_GSO_TCPV6
    [InlineData(5)]    // VIRTIO_NET_HDR_GSO_UDP_L4
    public void GSO_types_other_than_TCPv4_are_BadOffload(byte gsoType)
    {
        var packet = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[3000]);
        AssertDropped(TestPacket.Frame(packet, 1, gsoType, 52, 1000, 20, 16), DropReason.BadOffload);
    }

    [Fact]
    public void GSO_TCPv4_on_a_UDP_packet_is_BadOffload()
    {
        var packet = TestPacket.Udp(Local, PeerA, 1, 2, new byte[3000]);
        AssertDropped(TestPacket.Frame(packet, 1, 1, 28, 1000, 20, 6), DropReason.BadOffload);
    }

    [Fact]
    public void GSO_TCPv4_with_gso_size_0_is_BadOffload()
    {
        var packet = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[3000]);
        AssertDropped(TestPacket.Frame(packet, 1, 1, 52, 0, 20, 16), DropReason.BadOffload);
    }

    [Fact]
    public void GSO_TCPv4_cut_into_more_than_128_segments_is_BadOffload()
    {
        var packet = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[129 * 100]);
        AssertDropped(TestPacket.Frame(packet, 1, 1, 52, 100, 20, 16), DropReason.BadOffload);
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(20, 60000)]
    public void NEEDS_CSUM_with_offsets_outside_the_packet_is_BadOffload(ushort csumStart, ushort csumOffset)
    {
        var packet = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[100]);
        AssertDropped(TestPacket.Frame(packet, 1, 0, 0, 0, csumStart, csumOffset), DropReason.BadOffload);
    }

    [Fact]
    public void Every_drop_counts_once_in_TotalDrops()
    {
        Process(TestPacket.Frame(TestPacket.Ipv6()));
        Process(TestPacket.Frame(IcmpGolden.Offender()));
        Process(TestPacket.Frame(TestPacket.Udp(Local, PeerA, 1, 2, new byte[20], 1)));
        Process(new byte[12]);
        Assert.Equal(4, _pump.Counters.TotalDrops);
        Assert.Equal(0, _pump.Batch.Count);
    }
}
