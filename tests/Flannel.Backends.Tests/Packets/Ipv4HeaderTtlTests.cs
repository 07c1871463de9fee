using System.Buffers.Binary;
using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// flanneld's proxy decrements the inner TTL in both directions and patches the header checksum incrementally
/// (RFC 1624); a packet whose TTL would reach 0 is dropped untouched.
/// </summary>
[Unit]
public class Ipv4HeaderTtlTests
{
    // The textbook header (Wikipedia "IPv4 header checksum"): 192.168.0.1 → 192.168.0.199, UDP, TTL 64, checksum 0xB861.
    private static byte[] Golden() => Convert.FromHexString("45000073000040004011B861C0A80001C0A800C7");

    [Fact]
    public void Golden_header_is_valid_to_begin_with()
    {
        Assert.True(TestPacket.IpChecksumValid(Golden()));
    }

    [Fact]
    public void Decrement_lowers_TTL_and_patches_checksum_to_the_full_recompute()
    {
        var p = Golden();
        Assert.True(Ipv4Header.DecrementTtl(p));
        Assert.Equal(63, p[8]);
        // TTL is the high byte of word 4: the sum drops by 0x0100, so the checksum rises by 0x0100.
        Assert.Equal(0xB961, BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(10)));
        var recomputed = (byte[])p.Clone();
        TestPacket.FixIpChecksum(recomputed);
        Assert.Equal(recomputed, p);
        // Nothing else moved.
        var expected = Golden();
        expected[8] = 63;
        expected[10] = 0xB9;
        Assert.Equal(expected, p);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void TTL_1_and_0_return_false_and_leave_the_packet_unchanged(byte ttl)
    {
        var p = Golden();
        TestPacket.SetTtl(p, ttl);
        var before = (byte[])p.Clone();
        Assert.False(Ipv4Header.DecrementTtl(p));
        Assert.Equal(before, p);
    }

    [Fact]
    public void Decrement_matches_recompute_for_every_TTL_on_random_headers()
    {
        var random = new Random(1624);
        for (int i = 0; i < 20_000; i++)
        {
            byte ttl = (byte)(2 + (i % 254));
            var p = TestPacket.Ipv4((byte)random.Next(256), (uint)random.NextInt64(1L << 32), (uint)random.NextInt64(1L << 32),
                TestPacket.Random(random, random.Next(0, 8)), ttl, (ushort)random.Next(0x10000), (ushort)random.Next(0x10000),
                (byte)random.Next(256), optionBytes: 4 * random.Next(0, 11));
            Assert.True(Ipv4Header.DecrementTtl(p));
            Assert.Equal(ttl - 1, p[8]);
            Assert.True(TestPacket.IpChecksumValid(p), $"case {i}: {Convert.ToHexString(p)}");
        }
    }

    [Fact]
    public void UpdateChecksum_covers_options()
    {
        var p = TestPacket.Ipv4(17, TestPacket.Ip("10.0.0.1"), TestPacket.Ip("10.0.0.2"), new byte[8], optionBytes: 8);
        var expected = (byte[])p.Clone();
        p[10] = 0x12;
        p[11] = 0x34;
        Ipv4Header.UpdateChecksum(p);
        Assert.Equal(expected, p);
    }

    [Fact]
    public void Field_readers_use_network_order()
    {
        var p = TestPacket.Udp(TestPacket.Ip("10.6.93.1"), TestPacket.Ip("10.6.200.1"), 40000, 53, new byte[12],
            flagsAndOffset: 0x2000 | 185);
        Assert.Equal(4, Ipv4Header.Version(p));
        Assert.Equal(20, Ipv4Header.HeaderLength(p));
        Assert.Equal(40, Ipv4Header.TotalLength(p));
        Assert.Equal(17, Ipv4Header.Protocol(p));
        Assert.Equal(TestPacket.Ip("10.6.93.1"), Ipv4Header.Source(p));
        Assert.Equal(TestPacket.Ip("10.6.200.1"), Ipv4Header.Destination(p));
        Assert.Equal(185, Ipv4Header.FragmentOffset(p)); // MF is not part of the offset
    }
}
