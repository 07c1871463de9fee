using System.Buffers.Binary;
using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// Receive-side GRO: in-order segments of one flow become one GSO_TCPV4 frame for the TUN, with the virtio header and
/// the partial checksum the kernel expects (it finishes the checksum and re-segments if it must forward).
/// </summary>
[Unit]
public class TcpCoalescerMergeTests
{
    private const int Hdr = CoalescerFlow.Hdr;

    [Fact]
    public void Three_equal_segments_become_one_GSO_frame()
    {
        var flow = new CoalescerFlow();
        uint seq0 = flow.Seq;
        var a = flow.Next(1000);
        var b = flow.Next(1000);
        var c = flow.Next(1000);
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(a));
        Assert.True(gro.TryAppend(b));
        Assert.True(gro.TryAppend(c));
        Assert.Equal(3, gro.Segments);

        var frame = gro.Take().ToArray();
        Assert.False(gro.HasItem);
        Assert.Equal(10 + Hdr + 3000, frame.Length);
        var h = frame.AsSpan(0, 10);
        Assert.Equal(1, h[0]);                                                  // NEEDS_CSUM
        Assert.Equal(1, h[1]);                                                  // GSO_TCPV4
        Assert.Equal(Hdr, BinaryPrimitives.ReadUInt16LittleEndian(h[2..]));     // hdr_len
        Assert.Equal(1000, BinaryPrimitives.ReadUInt16LittleEndian(h[4..]));    // gso_size
        Assert.Equal(20, BinaryPrimitives.ReadUInt16LittleEndian(h[6..]));      // csum_start
        Assert.Equal(16, BinaryPrimitives.ReadUInt16LittleEndian(h[8..]));      // csum_offset

        var p = frame.AsSpan(10);
        Assert.Equal(Hdr + 3000, TestPacket.TotalLength(p));
        Assert.True(TestPacket.IpChecksumValid(p));
        Assert.Equal(TestPacket.PartialChecksum(p), TestPacket.L4ChecksumField(p));
        Assert.Equal(seq0, TestPacket.Seq(p));
        Assert.Equal(TestPacket.Ack, p[CoalescerFlow.Ipl + 13]);
        Assert.Equal(flow.Sent.ToArray(), p[Hdr..].ToArray());
        // The head's header is kept apart from length and checksums.
        Assert.Equal(a.AsSpan(CoalescerFlow.Ipl, 16).ToArray(), p.Slice(CoalescerFlow.Ipl, 16).ToArray());
        Assert.Equal(a.AsSpan(CoalescerFlow.Ipl + 18, 14).ToArray(), p.Slice(CoalescerFlow.Ipl + 18, 14).ToArray());

        // Completing the partial checksum as the kernel would gives a valid TCP packet.
        Assert.True(TcpSegmentation.CompleteChecksum(p, 20, 16));
        Assert.True(TestPacket.L4ChecksumValid(p));
    }

    [Fact]
    public void Single_packet_goes_out_unchanged_with_a_zero_header()
    {
        var a = new CoalescerFlow().Next(1000);
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(a));
        var frame = gro.Take().ToArray();
        Assert.Equal(new byte[10], frame[..10]);
        Assert.Equal(a, frame[10..]);
    }

    [Fact]
    public void Short_last_segment_is_merged_and_gso_size_stays_the_first_size()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(flow.Next(1448)));
        Assert.True(gro.TryAppend(flow.Next(1448)));
        Assert.True(gro.TryAppend(flow.Next(300)));
        var frame = gro.Take();
        Assert.Equal(1448, BinaryPrimitives.ReadUInt16LittleEndian(frame[4..]));
        Assert.Equal(Hdr + 1448 * 2 + 300, TestPacket.TotalLength(frame[10..]));
    }

    [Fact]
    public void PSH_on_the_last_appended_segment_is_carried_to_the_merged_header()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(flow.Next(1000)));
        Assert.True(gro.TryAppend(flow.Next(1000, TestPacket.Psh | TestPacket.Ack)));
        var frame = gro.Take();
        Assert.Equal(TestPacket.Psh | TestPacket.Ack, frame[10 + CoalescerFlow.Ipl + 13]);
    }

    [Fact]
    public void At_most_64_segments_are_merged()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(flow.Next(1000)));
        for (int i = 1; i < 64; i++)
        {
            Assert.True(gro.TryAppend(flow.Next(1000)), $"segment {i}");
        }
        Assert.False(gro.TryAppend(flow.Next(1000)));
        Assert.Equal(64, gro.Segments);
        Assert.Equal(Hdr + 64000, TestPacket.TotalLength(gro.Take()[10..]));
    }

    [Fact]
    public void Merged_packet_never_exceeds_65535_bytes()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(flow.Next(1448)));
        int segments = 1;
        while (gro.TryAppend(flow.Next(1448)))
        {
            segments++;
        }
        Assert.Equal((65535 - Hdr) / 1448, segments);
        var frame = gro.Take();
        Assert.True(frame.Length - 10 <= 65535);
        Assert.Equal(frame.Length - 10, TestPacket.TotalLength(frame[10..]));
    }

    [Fact]
    public void Rejected_append_leaves_the_open_item_intact()
    {
        var flow = new CoalescerFlow();
        var a = flow.Next(1000);
        var b = flow.Next(1000);
        var stray = TestPacket.Tcp(CoalescerFlow.Source, CoalescerFlow.Destination, flow.Seq, 1, TestPacket.Ack, new byte[1000]);
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(a));
        Assert.True(gro.TryAppend(b));
        Assert.False(gro.TryAppend(stray));
        Assert.Equal(2, gro.Segments);
        var p = gro.Take()[10..];
        Assert.Equal(Hdr + 2000, TestPacket.TotalLength(p));
        Assert.Equal(flow.Sent.ToArray(), p[Hdr..].ToArray());
    }

    [Fact]
    public void Coalescer_is_reusable_after_Take()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(flow.Next(1000)));
        Assert.True(gro.TryAppend(flow.Next(1000)));
        _ = gro.Take();
        flow.Sent.Clear();
        var c = flow.Next(1000);
        Assert.True(gro.TryOpen(c));
        Assert.True(gro.TryAppend(flow.Next(1000)));
        var p = gro.Take()[10..];
        Assert.Equal(TestPacket.Seq(c), TestPacket.Seq(p));
        Assert.Equal(flow.Sent.ToArray(), p[Hdr..].ToArray());
    }
}
