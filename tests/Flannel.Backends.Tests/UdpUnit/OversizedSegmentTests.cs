using System.Runtime.InteropServices;
using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// gso_size comes from the TUN's virtio header, so a segment can be longer than the 65507 bytes a UDP datagram over
/// IPv4 can carry (a TUN MTU near 64 KB, or a bogus header). Such a read must be refused or counted, never throw: an
/// exception on the pump thread stops all traffic of the queue.
/// </summary>
[Unit]
public sealed unsafe class OversizedSegmentTests
{
    // A 65535-byte TCP packet (20 + 32 header bytes, 65483 payload) cut at gso_size 65460: two segments, the first
    // 52 + 65460 = 65512 bytes long.
    private const int Hdr = 20 + TestPacket.TcpWithTimestamps;
    private const int Payload = 65535 - Hdr;
    private const ushort GsoSize = 65460;

    [Fact]
    public void WireSendBatch_Add_with_a_segment_longer_than_a_UDP_datagram_does_not_throw()
    {
        using var batch = new WireSendBatch(64, 8285, gso: true);
        byte* data = (byte*)NativeMemory.AllocZeroed(2 * Hdr + Payload);
        try
        {
            var e = Record.Exception(() => batch.Add(data, 2 * Hdr + Payload, Hdr + GsoSize, PeerAPublic));
            Assert.Null(e);
        }
        finally
        {
            NativeMemory.Free(data);
        }
    }

    [Fact]
    public void TunToWire_Process_of_a_TSO_frame_with_a_64KB_gso_size_does_not_throw()
    {
        using var pump = new TunToWire(port: 8285, vnetHeader: true, gso: true) { TunAddress = TunAddress };
        var packet = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[Payload]);
        Assert.Equal(65535, packet.Length);
        var frame = TestPacket.Frame(packet, 1, 1, Hdr, GsoSize, 20, 16);
        frame.CopyTo(pump.ReadBuffer(0));

        TunVerdict verdict = default;
        var e = Record.Exception(() => verdict = pump.Process(0, frame.Length, Table));
        Assert.Null(e);
        // Refused as a bad offload: a 65512-byte segment is more than a UDP datagram over IPv4 can carry (65507).
        Assert.Equal(TunVerdict.Dropped, verdict);
        Assert.Equal(1, pump.Counters.Drops(DropReason.BadOffload));
    }
}
