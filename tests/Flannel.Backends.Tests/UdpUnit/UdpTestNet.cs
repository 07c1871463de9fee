using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// The overlay the pump tests run in: we are 10.6.93.0/24 (TUN address 10.6.93.0); two peers, 10.6.94.0/24 at
/// 192.168.1.94 and 10.6.95.0/24 at 192.168.1.95. 10.6.200.0/24 has no lease.
/// </summary>
internal static class UdpTestNet
{
    public static readonly uint TunAddress = TestPacket.Ip("10.6.93.0");
    public static readonly uint Local = TestPacket.Ip("10.6.93.5");
    public static readonly uint PeerA = TestPacket.Ip("10.6.94.7");
    public static readonly uint PeerB = TestPacket.Ip("10.6.95.7");
    public static readonly uint PeerAPublic = TestPacket.Ip("192.168.1.94");
    public static readonly uint PeerBPublic = TestPacket.Ip("192.168.1.95");
    public static readonly uint Stranger = TestPacket.Ip("192.168.1.200");

    public static readonly PeerTable Table = new(
    [
        new UdpPeer(Ip4Network.ParseCidr("10.6.94.0/24"), new Ip4Address(PeerAPublic)),
        new UdpPeer(Ip4Network.ParseCidr("10.6.95.0/24"), new Ip4Address(PeerBPublic)),
    ]);

    /// <summary>Every drop counter, to check that exactly one moved.</summary>
    public static long[] Drops(PumpCounters counters) =>
        [.. Enum.GetValues<DropReason>().Select(counters.Drops)];

    public static void AssertOneDrop(long[] before, PumpCounters counters, DropReason reason)
    {
        var after = Drops(counters);
        foreach (var r in Enum.GetValues<DropReason>())
        {
            Assert.True(after[(int)r] - before[(int)r] == (r == reason ? 1 : 0),
                $"{r}: {before[(int)r]} -> {after[(int)r]} (expected one {reason} drop only)");
        }
    }
}
