using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// Userspace TSO: every segment must be an ordinary packet a flanneld peer's kernel accepts (valid IP and TCP
/// checksums, right length, sequence and ID), with FIN/PSH only on the last and the payload cut without loss.
/// </summary>
[Unit]
public class TcpSegmentationSplitTests
{
    private const int Ipl = 20;
    private const int Tcpl = TestPacket.TcpWithTimestamps;
    private const int Hdr = Ipl + Tcpl;
    private const uint Seq0 = 0xFFFF_F800; // wraps during the third segment
    private const ushort Id0 = 0xFFFE;     // wraps at the third segment
    private static readonly uint Source = TestPacket.Ip("10.6.93.5");
    private static readonly uint Destination = TestPacket.Ip("10.6.200.7");

    /// <summary>A super-packet as the TUN hands it over: one header, the whole payload, a partial TCP checksum.</summary>
    private static (byte[] Packet, byte[] Payload) SuperPacket(byte flags, int payloadLength, int seed = 4)
    {
        var payload = TestPacket.Random(new Random(seed), payloadLength);
        var p = TestPacket.Tcp(Source, Destination, Seq0, 0x11223344, flags, payload, id: Id0);
        var partial = TestPacket.PartialChecksum(p);
        p[Ipl + 16] = (byte)(partial >> 8);
        p[Ipl + 17] = (byte)partial;
        return (p, payload);
    }

    [Theory]
    [InlineData(TestPacket.Psh | TestPacket.Ack)]
    [InlineData(TestPacket.Fin | TestPacket.Psh | TestPacket.Ack)]
    [InlineData(TestPacket.Fin | TestPacket.Ack)]
    public void Splits_into_valid_segments(byte flags)
    {
        var (packet, payload) = SuperPacket(flags, 3 * 1000 + 500);
        var output = new byte[8192];
        int count = TcpSegmentation.Split(packet, 1000, output, out int segmentLength, out int totalLength);

        Assert.Equal(4, count);
        Assert.Equal(Hdr + 1000, segmentLength);
        Assert.Equal(3 * (Hdr + 1000) + Hdr + 500, totalLength);
        var joined = new List<byte>();
        for (int i = 0; i < count; i++)
        {
            int length = i < 3 ? Hdr + 1000 : Hdr + 500;
            var seg = output.AsSpan(i * segmentLength, length);
            Assert.Equal(length, TestPacket.TotalLength(seg));
            Assert.True(TestPacket.IpChecksumValid(seg), $"IP checksum of segment {i}");
            Assert.True(TestPacket.L4ChecksumValid(seg), $"TCP checksum of segment {i}");
            Assert.Equal(unchecked(Seq0 + (uint)(i * 1000)), TestPacket.Seq(seg));
            Assert.Equal(unchecked((ushort)(Id0 + i)), TestPacket.Id(seg));
            byte expectedFlags = i == count - 1 ? flags : (byte)(flags & ~(TestPacket.Fin | TestPacket.Psh));
            Assert.Equal(expectedFlags, seg[Ipl + 13]);
            // Everything else in the headers is copied: addresses, TTL, DF, ports, ACK number, window, options.
            Assert.Equal(packet.AsSpan(0, 2).ToArray(), seg[..2].ToArray());
            Assert.Equal(packet.AsSpan(6, 4).ToArray(), seg[6..10].ToArray());
            Assert.Equal(packet.AsSpan(12, 8).ToArray(), seg[12..20].ToArray());
            Assert.Equal(packet.AsSpan(Ipl, 4).ToArray(), seg[Ipl..(Ipl + 4)].ToArray());
            Assert.Equal(packet.AsSpan(Ipl + 8, 5).ToArray(), seg[(Ipl + 8)..(Ipl + 13)].ToArray());
            Assert.Equal(packet.AsSpan(Ipl + 14, 2).ToArray(), seg[(Ipl + 14)..(Ipl + 16)].ToArray());
            Assert.Equal(packet.AsSpan(Ipl + 18, Tcpl - 18).ToArray(), seg[(Ipl + 18)..Hdr].ToArray());
            joined.AddRange(seg[Hdr..].ToArray());
        }
        Assert.Equal(payload, joined.ToArray());
    }

    [Fact]
    public void Payload_that_is_an_exact_multiple_gives_full_segments_only()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3000);
        var output = new byte[8192];
        Assert.Equal(3, TcpSegmentation.Split(packet, 1000, output, out int segmentLength, out int totalLength));
        Assert.Equal(3 * segmentLength, totalLength);
        Assert.True(TestPacket.L4ChecksumValid(output.AsSpan(2 * segmentLength, segmentLength)));
    }

    [Fact]
    public void Payload_no_bigger_than_gso_gives_one_valid_packet()
    {
        var (packet, _) = SuperPacket(TestPacket.Psh | TestPacket.Ack, 700);
        var output = new byte[2048];
        Assert.Equal(1, TcpSegmentation.Split(packet, 1000, output, out _, out int totalLength));
        Assert.Equal(packet.Length, totalLength);
        var seg = output.AsSpan(0, totalLength);
        Assert.True(TestPacket.IpChecksumValid(seg));
        Assert.True(TestPacket.L4ChecksumValid(seg));
        Assert.Equal(TestPacket.Psh | TestPacket.Ack, seg[Ipl + 13]);
    }

    [Fact]
    public void Header_only_packet_gives_one_segment()
    {
        var (packet, _) = SuperPacket(TestPacket.Fin | TestPacket.Ack, 0);
        var output = new byte[128];
        Assert.Equal(1, TcpSegmentation.Split(packet, 1000, output, out _, out int totalLength));
        Assert.Equal(Hdr, totalLength);
        Assert.True(TestPacket.L4ChecksumValid(output.AsSpan(0, Hdr)));
    }

    [Fact]
    public void Output_of_exactly_the_needed_size_fits_and_one_byte_less_does_not()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3500);
        int needed = 4 * Hdr + 3500;
        Assert.Equal(4, TcpSegmentation.Split(packet, 1000, new byte[needed], out _, out int total));
        Assert.Equal(needed, total);
        Assert.Equal(0, TcpSegmentation.Split(packet, 1000, new byte[needed - 1], out int seg, out total));
        Assert.Equal(0, seg);
        Assert.Equal(0, total);
    }

    [Fact]
    public void Not_TCP_returns_0()
    {
        var udp = TestPacket.Udp(Source, Destination, 1, 2, new byte[3000]);
        Assert.Equal(0, TcpSegmentation.Split(udp, 1000, new byte[8192], out _, out _));
    }

    [Fact]
    public void Not_IPv4_returns_0()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3000);
        packet[0] = 0x65;
        Assert.Equal(0, TcpSegmentation.Split(packet, 1000, new byte[8192], out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void TCP_data_offset_below_5_returns_0(int dataOffset)
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3000);
        packet[Ipl + 12] = (byte)(dataOffset << 4);
        Assert.Equal(0, TcpSegmentation.Split(packet, 1000, new byte[8192], out _, out _));
    }

    [Fact]
    public void TCP_header_longer_than_the_packet_returns_0()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 0);
        packet[Ipl + 12] = 0xF0; // 60 bytes of TCP header, 32 present
        Assert.Equal(0, TcpSegmentation.Split(packet, 1000, new byte[8192], out _, out _));
    }

    [Fact]
    public void IP_header_length_below_20_returns_0()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3000);
        packet[0] = 0x44;
        Assert.Equal(0, TcpSegmentation.Split(packet, 1000, new byte[8192], out _, out _));
    }

    [Fact]
    public void Gso_size_0_returns_0()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 3000);
        Assert.Equal(0, TcpSegmentation.Split(packet, 0, new byte[8192], out _, out _));
    }

    [Fact]
    public void Packet_shorter_than_IP_plus_TCP_header_returns_0()
    {
        var (packet, _) = SuperPacket(TestPacket.Ack, 0);
        Assert.Equal(0, TcpSegmentation.Split(packet.AsSpan(0, 39), 1000, new byte[8192], out _, out _));
        Assert.Equal(0, TcpSegmentation.Split(packet.AsSpan(0, 19), 1000, new byte[8192], out _, out _));
    }
}
