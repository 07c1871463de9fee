using System.Buffers.Binary;
using CsCheck;
using Flannel.Backends.Packets;
using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.Properties;

/// <summary>
/// Property and fuzz tests (issue 7 item 7) for the packet pump's parsers: random and mutated packets behind random
/// virtio headers never make them throw, TSO splitting re-joins to the original payload, and GRO merging of the split
/// segments gives back a super-packet that splits into the very same segments.
/// </summary>
[Unit]
public class PacketParserProperties
{
    private const long FuzzIterations = 10_000;
    private const long RoundTripIterations = 2_000;

    // A super-packet's output room, as in TunToWire: 64 KB plus 128 segments of 120 header bytes.
    private const int SplitRoom = 65535 + 128 * 120;

    private static readonly uint[] Destinations = [PeerA, PeerB, Local, TestPacket.Ip("10.6.200.1"), TestPacket.Ip("10.6.94.255")];

    /// <summary>A TCP segment or super-packet with valid checksums (from us to a peer unless told).</summary>
    private static Gen<byte[]> Tcp(int maxPayload, Gen<byte> flags) => Gen.Select(
        Gen.Byte.Array[0, maxPayload], Gen.UInt, flags, Gen.OneOfConst(20, 32, 60), Gen.OneOfConst(Destinations),
        (payload, seq, f, tcpLength, destination) =>
            TestPacket.Tcp(Local, destination, seq, ack: 7777, f, payload, tcpLength: tcpLength));

    private static readonly Gen<byte[]> AnyPacket = Gen.Frequency(
        (3, Tcp(3000, Gen.Byte)),
        (2, Gen.Select(Gen.Byte.Array[0, 600], Gen.OneOfConst(Destinations), (p, d) => TestPacket.Udp(Local, d, 1, 2, p))),
        (1, Gen.OneOfConst(Destinations).Select(d => TestPacket.IcmpEcho(Local, d))),
        (1, Gen.Byte.Array[0, 80]),
        (1, Gen.Const(() => TestPacket.Ipv6())));

    /// <summary>A packet with a few bytes changed, cut, or the IHL / data offset / lengths set to something odd.</summary>
    private static readonly Gen<byte[]> MutatedPacket = Gen.Select(AnyPacket, Gen.Int.Array[0, 4], (packet, edits) =>
    {
        var p = packet;
        foreach (int e in edits)
        {
            if (p.Length == 0)
            {
                break;
            }
            int at = (int)((uint)e >> 4) % p.Length;
            byte value = (byte)(e >> 24);
            switch (e & 7)
            {
                case 0:
                    p = p[..at];
                    break;
                case 1:
                    p[0] = (byte)(0x40 | (value & 0x0F)); // IHL anything
                    break;
                case 2 when p.Length > 2:
                    p[2] = value; // total length
                    break;
                case 3 when p.Length > (p[0] & 0x0F) * 4 + 12:
                    p[(p[0] & 0x0F) * 4 + 12] = value; // TCP data offset
                    break;
                case 4 when p.Length > 9:
                    p[9] = (byte)(value % 3 == 0 ? 6 : value % 3 == 1 ? 17 : value);
                    break;
                default:
                    p[at] = value;
                    break;
            }
        }
        return p;
    });

    /// <summary>A virtio_net_hdr: mostly none or GSO_TCPV4 (with ECN now and then), with random sizes and offsets.</summary>
    private static readonly Gen<byte[]> VnetHeader = Gen.Select(
        Gen.Frequency((3, Gen.OneOfConst<byte>(0, 1)), (1, Gen.Byte)),
        Gen.Frequency((4, Gen.OneOfConst<byte>(0, 1, 0x81)), (1, Gen.OneOfConst<byte>(3, 4, 5)), (1, Gen.Byte)),
        Gen.UShort,
        Gen.Frequency((3, Gen.UShort[0, 1600]), (1, Gen.UShort)),
        Gen.Frequency((3, Gen.UShort[0, 80]), (1, Gen.UShort)),
        Gen.Frequency((3, Gen.OneOfConst<ushort>(6, 16)), (1, Gen.UShort)),
        (flags, gso, hdrLen, gsoSize, csumStart, csumOffset) => TestPacket.Frame([], flags, gso, hdrLen, gsoSize, csumStart, csumOffset));

    private static readonly Gen<byte[]> Frame = Gen.Frequency(
        (5, Gen.Select(VnetHeader, Gen.Frequency((1, AnyPacket), (2, MutatedPacket)), (h, p) => (byte[])[.. h, .. p])),
        (1, Gen.Byte.Array[0, 120]));

    [Fact]
    public void VirtioNetHeader_Read_takes_any_ten_bytes()
    {
        Gen.Byte.Array[10, 12].Sample(bytes =>
        {
            var h = VirtioNetHeader.Read(bytes);
            Assert.Equal(bytes[1], h.GsoType);
            Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)), h.GsoSize);
        }, iter: FuzzIterations);
    }

    [Fact]
    public void TunToWire_Process_never_throws()
    {
        using var vnet = new TunToWire(port: 8285, vnetHeader: true, gso: true) { TunAddress = TunAddress };
        using var plain = new TunToWire(port: 8285, vnetHeader: false, gso: false) { TunAddress = TunAddress };
        // One pump per direction is shared by the samples, so they run on one thread.
        var seen = new int[3];
        Gen.Select(Frame, Gen.Int[0, TunToWire.ReadsPerBatch - 1], Gen.Bool).Sample(t =>
        {
            var (frame, slot, withVnet) = t;
            var pump = withVnet ? vnet : plain;
            frame.CopyTo(pump.ReadBuffer(slot));
            var verdict = pump.Process(slot, frame.Length, Table);
            Assert.True(Enum.IsDefined(verdict));
            seen[(int)verdict]++;
            if (verdict == TunVerdict.Unreachable)
            {
                var icmp = pump.Icmp[(withVnet ? 10 : 0)..];
                Assert.True(TestPacket.IpChecksumValid(icmp));
                Assert.Equal(0xFFFF, TestPacket.ReferenceSum(icmp[20..]));
            }
            pump.Batch.Clear();
        }, iter: FuzzIterations, threads: 1, print: t => $"{Convert.ToHexString(t.Item1)} slot {t.Item2} vnet {t.Item3}");
        // The generator reaches every outcome: queued (GSO split included), dropped, unreachable.
        Assert.All(seen, n => Assert.True(n > 100, string.Join(",", seen)));
        Assert.True(vnet.Counters.Packets > 0);
    }

    [Fact]
    public void WireToTun_Process_never_throws()
    {
        using var pump = new WireToTun(vnetHeader: true);
        var sources = Gen.Frequency((4, Gen.OneOfConst(PeerAPublic, PeerBPublic)), (1, Gen.OneOfConst(Stranger)), (1, Gen.UInt));
        var inner = Gen.Select(Gen.Frequency((1, AnyPacket), (2, MutatedPacket)), Gen.OneOfConst(PeerA, PeerB, Local, 0u), (p, source) =>
        {
            if (p.Length >= 20 && source != 0)
            {
                BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), source); // from inside the sending peer's subnet
            }
            return p;
        });
        Gen.Select(inner, sources).Sample(t =>
        {
            var (datagram, source) = t;
            bool pass = pump.Process(datagram, source, Table);
            if (pass)
            {
                Assert.True(datagram.Length >= 20);
            }
        }, iter: FuzzIterations, threads: 1, print: t => $"{Convert.ToHexString(t.Item1)} from {t.Item2:x8}");
    }

    [Fact]
    public void Split_and_IcmpNetUnreachable_never_throw_on_anything()
    {
        Gen.Select(Gen.Frequency((1, AnyPacket), (2, MutatedPacket)), Gen.Frequency((3, Gen.UShort[0, 1600]), (1, Gen.UShort)), Gen.Int[0, 4000])
            .Sample(t =>
            {
                var (packet, gso, room) = t;
                var output = new byte[room];
                int count = TcpSegmentation.Split(packet, gso, output, out int segment, out int total);
                Assert.True(count >= 0);
                Assert.True(total <= room);
                if (count > 0)
                {
                    Assert.True(segment > 0);
                }

                var reply = new byte[room % (IcmpNetUnreachable.MaxLength + 1)];
                int n = IcmpNetUnreachable.Write(packet, TunAddress, reply);
                if (n > 0)
                {
                    Assert.True(TestPacket.IpChecksumValid(reply.AsSpan(0, n)));
                    Assert.Equal(0xFFFF, TestPacket.ReferenceSum(reply.AsSpan(20, n - 20)));
                }

                var copy = (byte[])packet.Clone();
                TcpSegmentation.CompleteChecksum(copy, room % 80, gso % 40);
            }, iter: FuzzIterations, print: t => $"{Convert.ToHexString(t.Item1)} gso {t.Item2} room {t.Item3}");
    }

    /// <summary>A TSO super-packet (flags ACK or ACK|PSH) and a gso_size that cuts it into at most 64 segments.</summary>
    private static readonly Gen<(byte[] Packet, ushort Gso)> SuperPacket = Gen.Int[1, 1460].SelectMany(gso =>
        Gen.Select(
            Gen.Int[0, Math.Min(64 * gso, 65535 - 120)].SelectMany(n => Gen.Byte.Array[n]),
            Gen.UInt,
            Gen.OneOfConst<byte>(0x10, 0x18),
            Gen.OneOfConst(20, 32),
            (payload, seq, flags, tcpLength) =>
                (TestPacket.Tcp(Local, PeerA, seq, ack: 99, flags, payload, tcpLength: tcpLength), (ushort)gso)));

    [Fact]
    public void Split_segments_rejoin_to_the_original_payload()
    {
        SuperPacket.Sample(t =>
        {
            var (packet, gso) = t;
            int hdr = 20 + (packet[32] >> 4) * 4;
            int payload = packet.Length - hdr;
            var output = new byte[SplitRoom];
            int count = TcpSegmentation.Split(packet, gso, output, out int segmentLength, out int total);
            Assert.Equal(payload == 0 ? 1 : (payload + gso - 1) / gso, count);
            Assert.Equal(hdr + gso, segmentLength);
            Assert.Equal(count * hdr + payload, total);

            var joined = new List<byte>(payload);
            uint seq0 = TestPacket.Seq(packet);
            for (int i = 0; i < count; i++)
            {
                var seg = output.AsSpan(i * segmentLength, Math.Min(segmentLength, total - i * segmentLength));
                Assert.Equal(seg.Length, TestPacket.TotalLength(seg));
                Assert.True(TestPacket.IpChecksumValid(seg), $"segment {i}: IP checksum");
                Assert.True(TestPacket.L4ChecksumValid(seg), $"segment {i}: TCP checksum");
                Assert.Equal(unchecked(seq0 + (uint)(i * gso)), TestPacket.Seq(seg));
                Assert.True(seg[12..20].SequenceEqual(packet.AsSpan(12, 8)));
                joined.AddRange(seg[hdr..].ToArray());
            }
            Assert.Equal(packet[hdr..], joined.ToArray());
        }, iter: RoundTripIterations, print: t => $"{t.Packet.Length} bytes gso {t.Gso}");
    }

    [Fact]
    public void Coalescing_the_split_segments_gives_back_the_super_packet()
    {
        // Only payloads that make real segments: the coalescer takes no empty segment.
        SuperPacket.Where(t => t.Packet.Length > 20 + (t.Packet[32] >> 4) * 4).Sample(t =>
        {
            var (packet, gso) = t;
            var output = new byte[SplitRoom];
            int count = TcpSegmentation.Split(packet, gso, output, out int segmentLength, out int total);
            Assert.True(count > 0);

            using var gro = new TcpCoalescer();
            for (int i = 0; i < count; i++)
            {
                var seg = output.AsSpan(i * segmentLength, Math.Min(segmentLength, total - i * segmentLength));
                Assert.True(i == 0 ? gro.TryOpen(seg) : gro.TryAppend(seg), $"segment {i} of {count} refused");
            }
            Assert.Equal(count, gro.Segments);
            var frame = gro.Take().ToArray();
            var merged = frame[10..];
            Assert.Equal(packet.Length, merged.Length);
            int hdr = 20 + (packet[32] >> 4) * 4;
            Assert.Equal(packet[hdr..], merged[hdr..]);
            if (count > 1)
            {
                var h = VirtioNetHeader.Read(frame);
                Assert.Equal(1, h.Gso);
                Assert.Equal(gso, h.GsoSize);
                Assert.Equal(hdr, h.HdrLen);
            }
            // Splitting the merged packet again gives the very same segments.
            var again = new byte[SplitRoom];
            Assert.Equal(count, TcpSegmentation.Split(merged, gso, again, out int segmentLength2, out int total2));
            Assert.Equal(segmentLength, segmentLength2);
            Assert.Equal(Convert.ToHexString(output, 0, total), Convert.ToHexString(again, 0, total2));
        }, iter: RoundTripIterations, print: t => $"{t.Packet.Length} bytes gso {t.Gso}");
    }

    [Fact]
    public void Coalescer_never_throws_on_any_packet_sequence()
    {
        // Mutated segments of one flow, so appends get far before a check refuses them.
        var sequence = SuperPacket.SelectMany(t => Gen.Int.Array[0, 3].Array[1, 6].Select(edits =>
        {
            var output = new byte[SplitRoom];
            int count = TcpSegmentation.Split(t.Packet, t.Gso, output, out int segmentLength, out int total);
            var packets = new List<byte[]>();
            for (int i = 0; i < Math.Min(count, edits.Length); i++)
            {
                var seg = output.AsSpan(i * segmentLength, Math.Min(segmentLength, total - i * segmentLength)).ToArray();
                foreach (int e in edits[i])
                {
                    if (seg.Length > 0)
                    {
                        seg[(int)((uint)e >> 8) % seg.Length] = (byte)e;
                    }
                }
                packets.Add(seg);
            }
            return packets.ToArray();
        }));
        using var gro = new TcpCoalescer();
        sequence.Sample(packets =>
        {
            foreach (var p in packets)
            {
                if (!(gro.HasItem && gro.TryAppend(p)))
                {
                    if (gro.HasItem)
                    {
                        Assert.True(gro.Take().Length >= 10 + 40);
                    }
                    gro.TryOpen(p);
                }
            }
            if (gro.HasItem)
            {
                var frame = gro.Take();
                Assert.Equal(frame.Length - 10, BinaryPrimitives.ReadUInt16BigEndian(frame[12..]));
            }
        }, iter: RoundTripIterations, threads: 1);
    }
}
