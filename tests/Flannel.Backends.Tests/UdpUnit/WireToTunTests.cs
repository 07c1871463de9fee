using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// The wire-side check of every datagram: it must come from a peer's PublicIP, carry an inner source inside that
/// peer's subnet, and still have TTL to spend; accepted packets leave with TTL-1 and a valid header checksum.
/// </summary>
[Unit]
public sealed class WireToTunTests : IDisposable
{
    private readonly WireToTun _pump = new(vnetHeader: true);

    public void Dispose() => _pump.Dispose();

    private void AssertDropped(byte[] datagram, uint outerSource, DropReason reason)
    {
        var before = Drops(_pump.Counters);
        var copy = (byte[])datagram.Clone();
        Assert.False(_pump.Process(copy, outerSource, Table));
        AssertOneDrop(before, _pump.Counters, reason);
        Assert.Equal(datagram, copy); // a dropped datagram is not modified
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(19)]
    public void Shorter_than_an_IPv4_header_is_TooShort(int length)
    {
        AssertDropped(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8])[..length], PeerAPublic, DropReason.TooShort);
    }

    [Fact]
    public void IPv6_is_NotIpv4()
    {
        AssertDropped(TestPacket.Ipv6(), PeerAPublic, DropReason.NotIpv4);
    }

    [Fact]
    public void Outer_source_that_is_no_peer_is_UnknownPeer()
    {
        AssertDropped(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8]), Stranger, DropReason.UnknownPeer);
        AssertDropped(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8]), PeerA, DropReason.UnknownPeer); // overlay address
    }

    [Fact]
    public void Unknown_peer_against_an_empty_table()
    {
        var before = Drops(_pump.Counters);
        Assert.False(_pump.Process(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8]), PeerAPublic, PeerTable.Empty));
        AssertOneDrop(before, _pump.Counters, DropReason.UnknownPeer);
    }

    [Fact]
    public void Inner_source_outside_the_senders_subnet_is_SpoofedSource()
    {
        // Peer A may not speak for peer B's subnet, nor for ours, nor for addresses outside the overlay.
        AssertDropped(TestPacket.Udp(PeerB, Local, 1, 2, new byte[8]), PeerAPublic, DropReason.SpoofedSource);
        AssertDropped(TestPacket.Udp(Local, Local, 1, 2, new byte[8]), PeerAPublic, DropReason.SpoofedSource);
        AssertDropped(TestPacket.Udp(TestPacket.Ip("8.8.8.8"), Local, 1, 2, new byte[8]), PeerAPublic, DropReason.SpoofedSource);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void TTL_that_would_reach_0_is_TtlExpired(byte ttl)
    {
        AssertDropped(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8], ttl), PeerAPublic, DropReason.TtlExpired);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2)]
    [InlineData(255)]
    public void Accepted_packet_has_TTL_decremented_and_a_valid_checksum(byte ttl)
    {
        var datagram = TestPacket.Tcp(PeerB, Local, 1, 2, TestPacket.Ack, new byte[1000], ttl);
        var expected = (byte[])datagram.Clone();
        TestPacket.SetTtl(expected, (byte)(ttl - 1));
        Assert.True(_pump.Process(datagram, PeerBPublic, Table));
        Assert.Equal(expected, datagram);
        Assert.True(TestPacket.IpChecksumValid(datagram));
        Assert.Equal(0, _pump.Counters.TotalDrops);
    }

    [Fact]
    public void Subnet_boundaries_are_inclusive()
    {
        Assert.True(_pump.Process(TestPacket.Udp(TestPacket.Ip("10.6.94.0"), Local, 1, 2, new byte[8]), PeerAPublic, Table));
        Assert.True(_pump.Process(TestPacket.Udp(TestPacket.Ip("10.6.94.255"), Local, 1, 2, new byte[8]), PeerAPublic, Table));
        AssertDropped(TestPacket.Udp(TestPacket.Ip("10.6.93.255"), Local, 1, 2, new byte[8]), PeerAPublic, DropReason.SpoofedSource);
        AssertDropped(TestPacket.Udp(TestPacket.Ip("10.6.95.0"), Local, 1, 2, new byte[8]), PeerAPublic, DropReason.SpoofedSource);
    }
}
