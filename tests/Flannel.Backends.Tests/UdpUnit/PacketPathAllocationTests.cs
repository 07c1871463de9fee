using Flannel.Backends.Packets;
using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Udp;
using Microsoft.Win32.SafeHandles;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// The pump moves millions of packets per second; a single allocation per packet would mean steady GC pauses on the
/// data path. Every per-packet step (TUN read → wire, TSO split, ICMP reply, wire → TUN check, GRO merge) must
/// allocate nothing once warmed up, nor may delivering a received batch into the TUN (checks, GRO merge, writes; here
/// into /dev/null, which takes any write).
/// </summary>
[Unit]
public sealed class PacketPathAllocationTests : IDisposable
{
    private const int TsoSegments = 40;
    private readonly TunToWire _tun = new(port: 8285, vnetHeader: true, gso: true) { TunAddress = TunAddress };
    private readonly WireToTun _wire = new(vnetHeader: true);
    private readonly TcpCoalescer _gro = new();

    // Pristine inputs, restored before every call: each Process decrements the TTL in place.
    private readonly byte[] _plain = TestPacket.Frame(TestPacket.Udp(Local, PeerA, 40000, 5201, new byte[1400 - 28]));
    private readonly byte[] _tso;
    private readonly byte[] _noRoute = TestPacket.Frame(IcmpGolden.Offender());
    private readonly byte[] _inbound = TestPacket.Udp(PeerA, Local, 5201, 40000, new byte[1400 - 28]);
    private readonly byte[] _scratch = new byte[1400];
    private readonly byte[][] _flow;
    private readonly byte[] _groRun;
    private readonly int _groSegment;
    private readonly SafeFileHandle _devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);

    public PacketPathAllocationTests()
    {
        var super = TestPacket.Tcp(Local, PeerA, 1, 2, TestPacket.Ack, new byte[TsoSegments * 1400]);
        _tso = TestPacket.Frame(super, 1, 1, 52, 1400, 20, 16);
        var flow = new CoalescerFlow();
        _flow = [flow.Next(1000), flow.Next(1000), flow.Next(1000)];
        var run = Enumerable.Range(0, 4)
            .Select(i => TestPacket.Tcp(PeerA, Local, (uint)(1 + i * 1000), 2, TestPacket.Ack, new byte[1000], 64, (ushort)(7 + i)))
            .ToArray();
        _groRun = [.. run.SelectMany(p => p)];
        _groSegment = run[0].Length;
    }

    public void Dispose()
    {
        _tun.Dispose();
        _wire.Dispose();
        _gro.Dispose();
        _devNull.Dispose();
    }

    [Fact]
    public void A_million_packets_allocate_nothing()
    {
        var table = Table;
        Assert.Equal(0, Run(table, 20_000, out _)); // warm-up: JIT, tiering, statics

        // Up to three windows of a million packets: on a loaded machine tiered compilation may still swap in optimised
        // code during the first (a few KiB, once), while anything the packet path allocates shows up in every window
        // (a byte per packet is a MiB).
        var windows = new List<long>();
        for (int window = 0; window < 3 && (windows.Count == 0 || windows[^1] != 0); window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            int failures = Run(table, 1_000_000, out long packets);
            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, failures);
            Assert.True(packets >= 1_000_000);
        }
        Assert.True(windows[^1] == 0, $"bytes allocated per window of a million packets: {string.Join(", ", windows)}");
    }

    /// <summary>The per-packet paths in a loop; returns how many steps did not do what they should (checked outside).</summary>
    private int Run(PeerTable table, long target, out long packets)
    {
        int failures = 0;
        packets = 0;
        while (packets < target)
        {
            _plain.CopyTo(_tun.ReadBuffer(0));
            failures += _tun.Process(0, _plain.Length, table) == TunVerdict.Queued ? 0 : 1;
            _tso.CopyTo(_tun.ReadBuffer(1));
            failures += _tun.Process(1, _tso.Length, table) == TunVerdict.Queued ? 0 : 1;
            _noRoute.CopyTo(_tun.ReadBuffer(2));
            failures += _tun.Process(2, _noRoute.Length, table) == TunVerdict.Unreachable ? 0 : 1;
            failures += _tun.Icmp.Length == 66 ? 0 : 1;
            packets += 1 + TsoSegments + 1;
            if (_tun.Batch.Free < 200)
            {
                _tun.Batch.Clear();
            }

            _inbound.CopyTo(_scratch);
            failures += _wire.Process(_scratch, PeerAPublic, table) ? 0 : 1;
            packets++;

            failures += _gro.TryOpen(_flow[0]) ? 0 : 1;
            failures += _gro.TryAppend(_flow[1]) ? 0 : 1;
            failures += _gro.TryAppend(_flow[2]) ? 0 : 1;
            failures += _gro.Take().Length == 10 + 52 + 3000 ? 0 : 1;
            packets += 3;

            // A UDP_GRO receive of four segments and a plain one, delivered as the wire-to-TUN thread does.
            long passed = _wire.Counters.Packets;
            _wire.Stage(0, _groRun, PeerAPublic, _groSegment);
            _wire.Stage(1, _inbound, PeerAPublic);
            int fd = (int)_devNull.DangerousGetHandle();
            failures += _wire.DatagramsIn(2) == 5 ? 0 : 1;
            _wire.Deliver(0, fd, table);
            _wire.Deliver(1, fd, table);
            _wire.FlushCoalesced(fd);
            failures += _wire.Counters.Packets - passed == 5 ? 0 : 1;
            packets += 5;
        }
        return failures;
    }
}
