using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// What the TUN-side step queues for sendmmsg: one ordinary IPv4 packet per datagram, TTL already decremented, to the
/// peer's PublicIP; TSO super-packets cut into MSS segments (one UDP_SEGMENT entry with GSO, one entry each without).
/// </summary>
[Unit]
public sealed unsafe class TunToWireQueueTests : IDisposable
{
    private const int Hdr = 20 + TestPacket.TcpWithTimestamps;
    private readonly TunToWire _pump = new(port: 8285, vnetHeader: true, gso: true) { TunAddress = TunAddress };
    private readonly TunToWire _noGso = new(port: 8285, vnetHeader: true, gso: false) { TunAddress = TunAddress };

    public void Dispose()
    {
        _pump.Dispose();
        _noGso.Dispose();
    }

    private static TunVerdict Process(TunToWire pump, byte[] frame, int slot = 0)
    {
        frame.CopyTo(pump.ReadBuffer(slot));
        return pump.Process(slot, frame.Length, Table);
    }

    private static ReadOnlySpan<byte> Bytes((IntPtr Data, int Length, int SegmentLength, uint Destination) entry) =>
        new((void*)entry.Data, entry.Length);

    private static byte[] Decremented(byte[] packet)
    {
        var expected = (byte[])packet.Clone();
        TestPacket.SetTtl(expected, (byte)(packet[8] - 1));
        return expected;
    }

    [Fact]
    public void Plain_packet_is_queued_in_place_with_TTL_decremented()
    {
        var packet = TestPacket.Udp(Local, PeerA, 40000, 53, TestPacket.Random(new Random(1), 1372));
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(packet), slot: 2));

        Assert.Equal(1, _pump.Batch.Count);
        Assert.Equal(1, _pump.Batch.Datagrams);
        var e = _pump.Batch.Entry(0);
        Assert.Equal(PeerAPublic, e.Destination);
        Assert.Equal(0, e.SegmentLength);
        Assert.Equal(packet.Length, e.Length);
        fixed (byte* slot = _pump.ReadBuffer(2))
        {
            Assert.Equal((IntPtr)(slot + 10), e.Data); // no copy: the read slot itself, after the vnet header
        }
        Assert.Equal(Decremented(packet), Bytes(e).ToArray());
        Assert.True(TestPacket.IpChecksumValid(Bytes(e)));
        Assert.Equal(1, _pump.Counters.Packets);
        Assert.Equal(packet.Length, _pump.Counters.Bytes);
        Assert.Equal(0, _pump.Counters.TotalDrops);
    }

    [Fact]
    public void Each_packet_goes_to_its_own_peer()
    {
        var a = TestPacket.Udp(Local, PeerA, 1, 2, new byte[10]);
        var b = TestPacket.Udp(Local, PeerB, 1, 2, new byte[20]);
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(a), 0));
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(b), 1));
        Assert.Equal(2, _pump.Batch.Count);
        Assert.Equal(PeerAPublic, _pump.Batch.Entry(0).Destination);
        Assert.Equal(PeerBPublic, _pump.Batch.Entry(1).Destination);
        Assert.Equal(Decremented(a), Bytes(_pump.Batch.Entry(0)).ToArray());
        Assert.Equal(Decremented(b), Bytes(_pump.Batch.Entry(1)).ToArray());
        _pump.Batch.Clear();
        Assert.Equal(0, _pump.Batch.Count);
        Assert.Equal(0, _pump.Batch.Datagrams);
    }

    [Fact]
    public void TTL_2_leaves_with_TTL_1()
    {
        var packet = TestPacket.Udp(Local, PeerA, 1, 2, new byte[10], ttl: 2);
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(packet)));
        Assert.Equal(1, Bytes(_pump.Batch.Entry(0))[8]);
    }

    [Fact]
    public void NEEDS_CSUM_without_GSO_gets_its_TCP_checksum_completed()
    {
        var valid = TestPacket.Tcp(Local, PeerA, 7, 9, TestPacket.Psh | TestPacket.Ack, TestPacket.Random(new Random(2), 999));
        var partial = (byte[])valid.Clone();
        ushort sum = TestPacket.PartialChecksum(partial);
        partial[36] = (byte)(sum >> 8);
        partial[37] = (byte)sum;
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(partial, flags: 1, csumStart: 20, csumOffset: 16)));
        var sent = Bytes(_pump.Batch.Entry(0));
        Assert.Equal(Decremented(valid), sent.ToArray());
        Assert.True(TestPacket.L4ChecksumValid(sent));
    }

    [Fact]
    public void NEEDS_CSUM_without_GSO_gets_its_UDP_checksum_completed()
    {
        var valid = TestPacket.Udp(Local, PeerB, 5353, 5353, TestPacket.Random(new Random(3), 77));
        var partial = (byte[])valid.Clone();
        ushort sum = TestPacket.PartialChecksum(partial);
        partial[26] = (byte)(sum >> 8);
        partial[27] = (byte)sum;
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(partial, flags: 1, csumStart: 20, csumOffset: 6)));
        Assert.Equal(Decremented(valid), Bytes(_pump.Batch.Entry(0)).ToArray());
    }

    [Fact]
    public void Without_NEEDS_CSUM_the_checksum_is_left_alone()
    {
        var packet = TestPacket.Tcp(Local, PeerA, 7, 9, TestPacket.Ack, new byte[100]);
        packet[37] ^= 0xFF; // wrong on purpose: not ours to fix
        Assert.Equal(TunVerdict.Queued, Process(_pump, TestPacket.Frame(packet, csumStart: 20, csumOffset: 16)));
        Assert.Equal(Decremented(packet), Bytes(_pump.Batch.Entry(0)).ToArray());
    }

    /// <summary>A TSO frame as the kernel writes it: NEEDS_CSUM, GSO_TCPV4, partial TCP checksum.</summary>
    private static (byte[] Frame, byte[] Packet) TsoFrame(int payloadLength, ushort gsoSize = 1400, byte gsoType = 1)
    {
        var packet = TestPacket.Tcp(Local, PeerA, 0xFFFF_0000, 42, TestPacket.Psh | TestPacket.Ack,
            TestPacket.Random(new Random(payloadLength), payloadLength), ttl: 64, id: 0xFFF0);
        ushort sum = TestPacket.PartialChecksum(packet);
        packet[36] = (byte)(sum >> 8);
        packet[37] = (byte)sum;
        return (TestPacket.Frame(packet, 1, gsoType, Hdr, gsoSize, 20, 16), packet);
    }

    /// <summary>Checks the segments laid out back to back at <paramref name="segments"/> against the super-packet.</summary>
    private static void AssertSegments(ReadOnlySpan<byte> segments, byte[] super, int gsoSize, int count)
    {
        int payload = super.Length - Hdr;
        Assert.Equal(count, (payload + gsoSize - 1) / gsoSize);
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            int n = Math.Min(gsoSize, payload - i * gsoSize);
            var seg = segments.Slice(at, Hdr + n);
            Assert.Equal(Hdr + n, TestPacket.TotalLength(seg));
            Assert.Equal(63, seg[8]);
            Assert.True(TestPacket.IpChecksumValid(seg), $"IP checksum of segment {i}");
            Assert.True(TestPacket.L4ChecksumValid(seg), $"TCP checksum of segment {i}");
            Assert.Equal(unchecked(0xFFFF_0000u + (uint)(i * gsoSize)), TestPacket.Seq(seg));
            Assert.Equal(unchecked((ushort)(0xFFF0 + i)), TestPacket.Id(seg));
            Assert.True(super.AsSpan(Hdr + i * gsoSize, n).SequenceEqual(seg[Hdr..]), $"payload of segment {i}");
            at += Hdr + n;
        }
        Assert.Equal(at, segments.Length);
    }

    [Fact]
    public void TSO_frame_with_GSO_is_one_UDP_SEGMENT_entry()
    {
        var (frame, super) = TsoFrame(30 * 1400);
        Assert.Equal(TunVerdict.Queued, Process(_pump, frame));
        Assert.Equal(1, _pump.Batch.Count);
        Assert.Equal(30, _pump.Batch.Datagrams);
        var e = _pump.Batch.Entry(0);
        Assert.Equal(PeerAPublic, e.Destination);
        Assert.Equal(Hdr + 1400, e.SegmentLength);
        Assert.Equal(30 * (Hdr + 1400), e.Length);
        AssertSegments(Bytes(e), super, 1400, 30);
        Assert.Equal(30, _pump.Counters.Packets);
        Assert.Equal(30 * (Hdr + 1400), _pump.Counters.Bytes);
    }

    [Fact]
    public void TSO_frame_with_the_ECN_bit_is_still_TCPv4()
    {
        var (frame, super) = TsoFrame(10 * 1400, gsoType: 0x81);
        Assert.Equal(TunVerdict.Queued, Process(_pump, frame));
        AssertSegments(Bytes(_pump.Batch.Entry(0)), super, 1400, 10);
    }

    [Fact]
    public void TSO_frame_with_a_short_tail_ends_in_a_short_segment()
    {
        var (frame, super) = TsoFrame(7 * 1400 + 333);
        Assert.Equal(TunVerdict.Queued, Process(_pump, frame));
        var e = _pump.Batch.Entry(0);
        Assert.Equal(Hdr + 1400, e.SegmentLength);
        Assert.Equal(8 * Hdr + 7 * 1400 + 333, e.Length);
        AssertSegments(Bytes(e), super, 1400, 8);
        // FIN/PSH only on the last segment.
        Assert.Equal(TestPacket.Ack, Bytes(e)[20 + 13]);
        Assert.Equal(TestPacket.Psh | TestPacket.Ack, Bytes(e)[(7 * (Hdr + 1400)) + 20 + 13]);
    }

    [Fact]
    public void TSO_frame_beyond_64KB_of_UDP_payload_is_split_over_two_entries()
    {
        // UDP_SEGMENT sends at most 65507 bytes per call: 45 segments of 1452 bytes, then the rest.
        var (frame, super) = TsoFrame(46 * 1400);
        Assert.Equal(TunVerdict.Queued, Process(_pump, frame));
        Assert.Equal(2, _pump.Batch.Count);
        Assert.Equal(46, _pump.Batch.Datagrams);
        var first = _pump.Batch.Entry(0);
        var second = _pump.Batch.Entry(1);
        Assert.Equal(45 * (Hdr + 1400), first.Length);
        Assert.Equal(Hdr + 1400, first.SegmentLength);
        Assert.Equal(Hdr + 1400, second.Length);
        Assert.Equal(0, second.SegmentLength);
        Assert.Equal(first.Data + first.Length, second.Data);
        AssertSegments(new ReadOnlySpan<byte>((void*)first.Data, first.Length + second.Length), super, 1400, 46);
    }

    [Fact]
    public void TSO_frame_without_GSO_is_one_entry_per_segment()
    {
        var (frame, super) = TsoFrame(30 * 1400);
        Assert.Equal(TunVerdict.Queued, Process(_noGso, frame));
        Assert.Equal(30, _noGso.Batch.Count);
        Assert.Equal(30, _noGso.Batch.Datagrams);
        var first = _noGso.Batch.Entry(0);
        for (int i = 0; i < 30; i++)
        {
            var e = _noGso.Batch.Entry(i);
            Assert.Equal(PeerAPublic, e.Destination);
            Assert.Equal(0, e.SegmentLength);
            Assert.Equal(Hdr + 1400, e.Length);
            Assert.Equal(first.Data + i * (Hdr + 1400), e.Data);
        }
        AssertSegments(new ReadOnlySpan<byte>((void*)first.Data, 30 * (Hdr + 1400)), super, 1400, 30);
        Assert.Equal(30, _noGso.Counters.Packets);
        Assert.Equal(30 * (Hdr + 1400), _noGso.Counters.Bytes);
    }

    [Fact]
    public void Plain_packet_without_GSO_is_one_entry_as_well()
    {
        var packet = TestPacket.Udp(Local, PeerB, 1, 2, new byte[500]);
        Assert.Equal(TunVerdict.Queued, Process(_noGso, TestPacket.Frame(packet)));
        Assert.Equal(1, _noGso.Batch.Count);
        Assert.Equal(Decremented(packet), Bytes(_noGso.Batch.Entry(0)).ToArray());
    }

    [Fact]
    public void Without_a_vnet_header_the_read_is_the_packet()
    {
        using var pump = new TunToWire(port: 8285, vnetHeader: false, gso: false) { TunAddress = TunAddress };
        var packet = TestPacket.Udp(Local, PeerA, 1, 2, new byte[64]);
        packet.CopyTo(pump.ReadBuffer(0));
        Assert.Equal(TunVerdict.Queued, pump.Process(0, packet.Length, Table));
        Assert.Equal(Decremented(packet), Bytes(pump.Batch.Entry(0)).ToArray());

        IcmpGolden.Offender().CopyTo(pump.ReadBuffer(1));
        Assert.Equal(TunVerdict.Unreachable, pump.Process(1, IcmpGolden.Offender().Length, Table));
        Assert.Equal(IcmpGolden.Reply(), pump.Icmp.ToArray()); // no vnet header in front either
    }
}
