using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>The per-packet lookups of the udp pump: inner destination → peer (longest prefix first), outer source → peer.</summary>
[Unit]
public class PeerTableTests
{
    private static UdpPeer Peer(string subnet, string publicIp) => new(Ip4Network.ParseCidr(subnet), Ip4Address.Parse(publicIp));

    private static readonly UdpPeer[] Peers =
    [
        Peer("10.6.1.0/24", "192.168.0.1"),
        Peer("10.6.2.0/24", "192.168.0.2"),
        Peer("10.6.3.0/24", "192.168.0.3"),
        Peer("10.6.2.64/26", "192.168.0.4"), // inside 10.6.2.0/24: must win for .64-.127
        Peer("10.6.5.7/24", "192.168.0.5"),  // host bits set: looked up by its network
    ];

    private static int ByDestination(PeerTable t, string ip) => t.FindByDestination(TestPacket.Ip(ip));

    [Theory]
    [InlineData("10.6.1.0", 0)]
    [InlineData("10.6.1.255", 0)]
    [InlineData("10.6.2.1", 1)]
    [InlineData("10.6.2.63", 1)]
    [InlineData("10.6.2.64", 3)]
    [InlineData("10.6.2.100", 3)]
    [InlineData("10.6.2.127", 3)]
    [InlineData("10.6.2.128", 1)]
    [InlineData("10.6.3.77", 2)]
    [InlineData("10.6.5.200", 4)]
    public void Destination_finds_the_longest_matching_prefix(string destination, int expected)
    {
        var table = new PeerTable(Peers);
        Assert.Equal(expected, ByDestination(table, destination));
        Assert.Equal(Peers[expected], table[expected]);
    }

    [Theory]
    [InlineData("10.6.4.1")]
    [InlineData("10.6.0.255")]
    [InlineData("10.7.1.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    public void Destination_outside_every_subnet_is_minus_1(string destination)
    {
        Assert.Equal(-1, ByDestination(new PeerTable(Peers), destination));
    }

    [Theory]
    [InlineData("192.168.0.1", 0)]
    [InlineData("192.168.0.3", 2)]
    [InlineData("192.168.0.4", 3)]
    [InlineData("192.168.0.5", 4)]
    public void Public_IP_finds_its_peer(string publicIp, int expected)
    {
        Assert.Equal(expected, new PeerTable(Peers).FindByPublicIp(TestPacket.Ip(publicIp)));
    }

    [Theory]
    [InlineData("192.168.0.6")]
    [InlineData("10.6.1.1")]  // an overlay address is no public IP
    [InlineData("0.0.0.0")]
    public void Unknown_public_IP_is_minus_1(string publicIp)
    {
        Assert.Equal(-1, new PeerTable(Peers).FindByPublicIp(TestPacket.Ip(publicIp)));
    }

    [Fact]
    public void Count_and_Peers_reflect_the_input_in_order()
    {
        var table = new PeerTable(Peers);
        Assert.Equal(Peers.Length, table.Count);
        Assert.Equal(Peers, table.Peers);
    }

    [Fact]
    public void Empty_table_finds_nothing()
    {
        var table = PeerTable.Empty;
        Assert.Equal(0, table.Count);
        Assert.Empty(table.Peers);
        Assert.Equal(-1, ByDestination(table, "10.6.1.1"));
        Assert.Equal(-1, table.FindByPublicIp(TestPacket.Ip("192.168.0.1")));
        Assert.Equal(-1, new PeerTable([]).FindByDestination(0));
    }

    [Fact]
    public void Host_route_peer_matches_only_its_address()
    {
        var table = new PeerTable([Peer("10.6.9.9/32", "192.168.0.9"), Peer("10.6.0.0/16", "192.168.0.10")]);
        Assert.Equal(0, ByDestination(table, "10.6.9.9"));
        Assert.Equal(1, ByDestination(table, "10.6.9.8"));
    }
}
