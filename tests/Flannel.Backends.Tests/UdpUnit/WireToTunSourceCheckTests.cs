using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// <c>--udp-source-check</c>: which outer sources each mode accepts for which inner sources, what a refusal is counted
/// as, and the unknown-peer report the periodic drop log prints (the last offender, the peer whose subnet it claimed,
/// the option that accepts it).
/// </summary>
[Unit]
public sealed class WireToTunSourceCheckTests : IDisposable
{
    /// <summary>Where peer A really sends from: its interface address, not the PublicIP its lease names.</summary>
    private static readonly uint PeerAInterface = TestPacket.Ip("192.168.1.194");

    private readonly WireToTun _pump = new(vnetHeader: true);

    public void Dispose() => _pump.Dispose();

    private static PeerTable TableWith(UdpSourceCheck check) => new(Table.Peers, check);

    private static byte[] From(uint innerSource) => TestPacket.Udp(innerSource, Local, 1, 2, new byte[8]);

    private void AssertAccepted(uint innerSource, uint outerSource, PeerTable table)
    {
        var datagram = From(innerSource);
        Assert.True(_pump.Process(datagram, outerSource, table), $"{new Ip4Address(innerSource)} from {new Ip4Address(outerSource)}");
        Assert.Equal(63, datagram[8]); // TTL-1: it went the whole way
    }

    private void AssertDropped(uint innerSource, uint outerSource, PeerTable table, DropReason reason)
    {
        var before = Drops(_pump.Counters);
        Assert.False(_pump.Process(From(innerSource), outerSource, table));
        AssertOneDrop(before, _pump.Counters, reason);
    }

    [Fact]
    public void Strict_needs_the_PublicIP_of_the_peer_whose_subnet_holds_the_inner_source()
    {
        var strict = TableWith(UdpSourceCheck.Strict);
        Assert.Equal(UdpSourceCheck.Strict, Table.SourceCheck); // the default
        AssertAccepted(PeerA, PeerAPublic, strict);
        AssertDropped(PeerA, PeerAInterface, strict, DropReason.UnknownPeer);
        AssertDropped(PeerA, PeerBPublic, strict, DropReason.SpoofedSource); // peer B speaking for peer A
        AssertDropped(Local, PeerAPublic, strict, DropReason.SpoofedSource);
        AssertDropped(Local, Stranger, strict, DropReason.UnknownPeer);
    }

    [Fact]
    public void Strict_keeps_each_lease_of_a_shared_PublicIP()
    {
        // A host that took a new subnet while its old lease still lives: both subnets, one PublicIP.
        var table = new PeerTable(
        [
            new UdpPeer(Ip4Network.ParseCidr("10.6.94.0/24"), new Ip4Address(PeerAPublic)),
            new UdpPeer(Ip4Network.ParseCidr("10.6.96.0/24"), new Ip4Address(PeerAPublic)),
        ]);
        AssertAccepted(PeerA, PeerAPublic, table);
        AssertAccepted(TestPacket.Ip("10.6.96.9"), PeerAPublic, table);
        AssertDropped(PeerB, PeerAPublic, table, DropReason.SpoofedSource);
    }

    [Fact]
    public void Subnet_accepts_any_sender_for_a_peer_subnet_and_nothing_outside_them()
    {
        var subnet = TableWith(UdpSourceCheck.Subnet);
        AssertAccepted(PeerA, PeerAInterface, subnet);
        AssertAccepted(PeerA, PeerAPublic, subnet);
        AssertAccepted(PeerB, Stranger, subnet);
        // Our own subnet and addresses outside the overlay stay out, whoever sends them.
        AssertDropped(Local, PeerAInterface, subnet, DropReason.UnknownPeer);
        AssertDropped(TestPacket.Ip("8.8.8.8"), Stranger, subnet, DropReason.UnknownPeer);
        AssertDropped(TestPacket.Ip("10.6.200.7"), PeerAPublic, subnet, DropReason.SpoofedSource);
    }

    [Fact]
    public void Off_accepts_whatever_parses_and_still_drops_what_does_not()
    {
        var off = TableWith(UdpSourceCheck.Off);
        AssertAccepted(TestPacket.Ip("8.8.8.8"), Stranger, off);
        AssertAccepted(Local, PeerA, off);
        var before = Drops(_pump.Counters);
        Assert.False(_pump.Process(TestPacket.Ipv6(), Stranger, off));
        AssertOneDrop(before, _pump.Counters, DropReason.NotIpv4);
        before = Drops(_pump.Counters);
        Assert.False(_pump.Process(TestPacket.Udp(PeerA, Local, 1, 2, new byte[8], ttl: 1), Stranger, off));
        AssertOneDrop(before, _pump.Counters, DropReason.TtlExpired);
    }

    [Fact]
    public void Unknown_peer_drops_keep_the_last_offender_until_it_is_taken()
    {
        var strict = TableWith(UdpSourceCheck.Strict);
        Assert.Null(_pump.Counters.TakeLastUnknownPeer());
        _ = _pump.Process(From(PeerB), Stranger, strict);
        _ = _pump.Process(From(PeerA), PeerAInterface, strict);
        _ = _pump.Process(From(Local), PeerAPublic, strict); // spoofed-source: not an unknown peer, not recorded
        Assert.Equal((PeerAInterface, PeerA), _pump.Counters.TakeLastUnknownPeer());
        Assert.Null(_pump.Counters.TakeLastUnknownPeer());
        Assert.Equal(2, _pump.Counters.Drops(DropReason.UnknownPeer));
    }

    [Fact]
    public void Report_names_the_sender_the_claimed_peer_and_the_option()
    {
        var log = new ListLogger<WireToTunSourceCheckTests>();
        var strict = TableWith(UdpSourceCheck.Strict);
        Assert.False(UnknownPeerReport.LogIfAny(log, _pump.Counters, strict)); // nothing dropped yet
        for (int i = 0; i < 3; i++)
        {
            _ = _pump.Process(From(PeerA), PeerAInterface, strict);
        }
        Assert.True(UnknownPeerReport.LogIfAny(log, _pump.Counters, strict));
        var entry = Assert.Single(log.Entries);
        Assert.Equal(2106, entry.Id.Id);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, entry.Level);
        Assert.Equal(
            "udp: datagrams dropped as unknown-peer (3 since start); the last came from 192.168.1.194 with inner source " +
            "10.6.94.7, inside 10.6.94.0/24, the subnet of the peer whose lease says PublicIP 192.168.1.94. That peer " +
            "probably runs with --public-ip different from its interface address (flanneld, like this daemon, sends from " +
            "the interface address). --udp-source-check=subnet (FLANNELD_UDP_SOURCE_CHECK) on this host accepts its " +
            "traffic and still checks every inner source against the peers' subnets",
            entry.Message);
        // Each offender once: nothing new, nothing logged.
        Assert.False(UnknownPeerReport.LogIfAny(log, _pump.Counters, strict));
        Assert.Single(log.Entries);
    }

    [Fact]
    public void Report_of_a_source_outside_every_peer_subnet_gives_no_public_ip_advice()
    {
        var log = new ListLogger<WireToTunSourceCheckTests>();
        _ = _pump.Process(From(TestPacket.Ip("8.8.8.8")), Stranger, Table);
        Assert.True(UnknownPeerReport.LogIfAny(log, _pump.Counters, Table));
        var entry = Assert.Single(log.Entries);
        Assert.Equal(2107, entry.Id.Id);
        Assert.Contains("from 192.168.1.200 with inner source 8.8.8.8, which is in no peer's subnet", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--public-ip", entry.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("strict", UdpSourceCheck.Strict)]
    [InlineData("subnet", UdpSourceCheck.Subnet)]
    [InlineData(" Off ", UdpSourceCheck.Off)]
    [InlineData("SUBNET", UdpSourceCheck.Subnet)]
    public void Flag_values_parse(string text, UdpSourceCheck expected)
    {
        Assert.True(UdpSourceCheckNames.TryParse(text, out var check));
        Assert.Equal(expected, check);
        Assert.Equal(text.Trim().ToLowerInvariant(), UdpSourceCheckNames.Of(check));
    }

    [Theory]
    [InlineData("")]
    [InlineData("loose")]
    [InlineData("false")]
    [InlineData(null)]
    public void Other_flag_values_do_not_parse(string? text)
    {
        Assert.False(UdpSourceCheckNames.TryParse(text, out _));
    }
}
