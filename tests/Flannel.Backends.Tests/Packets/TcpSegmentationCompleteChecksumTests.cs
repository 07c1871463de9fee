using System.Buffers.Binary;
using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// A NEEDS_CSUM packet without GSO carries the folded pseudo-header sum (not inverted) in its checksum field; completing
/// it must give exactly the checksum a full computation gives, or peers' kernels drop the packet.
/// </summary>
[Unit]
public class TcpSegmentationCompleteChecksumTests
{
    private static readonly uint Source = TestPacket.Ip("10.6.93.5");
    private static readonly uint Destination = TestPacket.Ip("10.6.200.7");

    private static void MakePartial(byte[] packet, int field)
    {
        ushort partial = TestPacket.PartialChecksum(packet);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(field), partial);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(1447)]
    public void TCP_partial_checksum_is_completed_to_the_valid_one(int payloadLength)
    {
        var valid = TestPacket.Tcp(Source, Destination, 7, 9, TestPacket.Ack, TestPacket.Random(new Random(payloadLength), payloadLength));
        var packet = (byte[])valid.Clone();
        MakePartial(packet, 20 + 16);
        Assert.True(TcpSegmentation.CompleteChecksum(packet, 20, 16));
        Assert.Equal(valid, packet);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(1471)]
    public void UDP_partial_checksum_is_completed_to_the_valid_one(int payloadLength)
    {
        var valid = TestPacket.Udp(Source, Destination, 40000, 53, TestPacket.Random(new Random(payloadLength), payloadLength));
        var packet = (byte[])valid.Clone();
        MakePartial(packet, 20 + 6);
        Assert.True(TcpSegmentation.CompleteChecksum(packet, 20, 6));
        Assert.Equal(valid, packet);
    }

    [Fact]
    public void UDP_checksum_that_computes_to_0_is_sent_as_FFFF()
    {
        // Choose the last payload word so the full sum folds to 0xFFFF: the computed checksum is then 0, which UDP
        // reserves for "no checksum" (RFC 768).
        var packet = TestPacket.Udp(Source, Destination, 40000, 53, new byte[64]);
        packet[26] = packet[27] = 0;
        ushort rest = TestPacket.ReferenceSum(packet.AsSpan(20), TestPacket.ReferencePseudo(packet));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(packet.Length - 2), (ushort)(0xFFFF - rest));
        Assert.Equal(0, TestPacket.ReferenceChecksum(packet.AsSpan(20), TestPacket.ReferencePseudo(packet)));

        MakePartial(packet, 26);
        Assert.True(TcpSegmentation.CompleteChecksum(packet, 20, 6));
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(26)));
        Assert.True(TestPacket.L4ChecksumValid(packet));
    }

    [Fact]
    public void IP_header_with_options_moves_csum_start()
    {
        var l4 = new byte[8 + 100];
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
        var valid = TestPacket.Ipv4(17, Source, Destination, l4, optionBytes: 12);
        TestPacket.FixL4Checksum(valid);
        var packet = (byte[])valid.Clone();
        MakePartial(packet, 32 + 6);
        Assert.True(TcpSegmentation.CompleteChecksum(packet, 32, 6));
        Assert.Equal(valid, packet);
    }

    [Theory]
    [InlineData(0, 16)]      // csum_start inside the IP header
    [InlineData(19, 16)]
    [InlineData(20, 1000)]   // field past the end
    [InlineData(20, 75)]     // field's second byte past the end (packet is 96 bytes)
    [InlineData(95, 0)]
    [InlineData(96, 0)]
    [InlineData(65535, 65535)]
    public void Offsets_outside_the_packet_return_false_and_write_nothing(int csumStart, int csumOffset)
    {
        var packet = TestPacket.Tcp(Source, Destination, 7, 9, TestPacket.Ack, new byte[44]);
        Assert.Equal(96, packet.Length);
        var before = (byte[])packet.Clone();
        Assert.False(TcpSegmentation.CompleteChecksum(packet, csumStart, csumOffset));
        Assert.Equal(before, packet);
    }

    [Fact]
    public void Field_in_the_last_two_bytes_is_accepted()
    {
        var packet = TestPacket.Tcp(Source, Destination, 7, 9, TestPacket.Ack, new byte[44]);
        Assert.True(TcpSegmentation.CompleteChecksum(packet, 20, 74));
    }
}
