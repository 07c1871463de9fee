using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Flannel.Backends.Tests.Packets;
using Flannel.Backends.Tun;
using Flannel.Backends.Udp;
using static Flannel.Backends.Tests.UdpUnit.UdpTestNet;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// What the wire-to-TUN direction does when its TUN write fails, against a real TUN device in a test namespace (the
/// errno is the kernel's, not a stub's): a device that is down is a drop and writing resumes once it is up; a deleted
/// device is a drop and <see cref="WireToTun.DeviceGone"/> for the thread loop; EAGAIN is one attempt and a drop.
/// </summary>
public sealed class WireToTunWriteTests
{
    private static readonly byte[] Payload = "wire to tun"u8.ToArray();

    /// <summary>A UDP packet from peer A's container to ours, as it arrives in a datagram from peer A.</summary>
    private static byte[] Inbound() => TestPacket.Udp(PeerA, Local, 5201, 40000, Payload);

    /// <summary>Three TCP segments of one flow from peer A, as one UDP_GRO receive holds them.</summary>
    private static (byte[] Coalesced, int Segment) InboundTcpRun()
    {
        var segments = Enumerable.Range(0, 3)
            .Select(i => TestPacket.Tcp(PeerA, Local, (uint)(1000 + i * 500), 7, TestPacket.Ack, new byte[500], 64, (ushort)(10 + i)))
            .ToArray();
        return ([.. segments.SelectMany(s => s)], segments[0].Length);
    }

    /// <summary>flannel0 up in a fresh namespace, our container address on lo, the overlay routed into the device.</summary>
    private static void WithTun(Action<NetNs, TunDevice, int> body)
    {
        using var ns = NetNs.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Open("flannel%d");
            ns.Ip("link", "set", "lo", "up");
            ns.Ip("addr", "add", "10.6.93.5/32", "dev", "lo");
            ns.Ip("link", "set", tun.Name, "up");
            ns.Ip("route", "add", "10.6.0.0/16", "dev", tun.Name);
            using var fd = tun.Queue(0).Borrow();
            body(ns, tun, fd.Value);
            return 0;
        });
    }

    [NeedsRoot] // a TUN device in a namespace
    [Fact]
    public void Written_packets_reach_the_kernel_and_count_as_passed()
    {
        WithTun((ns, tun, fd) =>
        {
            using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            receiver.Bind(new IPEndPoint(IPAddress.Parse("10.6.93.5"), 40000));
            receiver.ReceiveTimeout = 5000;
            using var pump = new WireToTun(tun.VnetHeader);
            var packet = Inbound();
            pump.Stage(0, packet, PeerAPublic);
            pump.Deliver(0, fd, Table);
            pump.FlushCoalesced(fd);
            var buffer = new byte[100];
            int n = receiver.Receive(buffer);
            Assert.Equal(Payload, buffer[..n]);
            Assert.Equal(1, pump.Counters.Packets);
            Assert.Equal(packet.Length, pump.Counters.Bytes);
            Assert.Equal(1, pump.Counters.Syscalls);
            Assert.Equal(0, pump.Counters.TotalDrops);

            // A GRO receive of three segments: merged, one write, three packets passed with their own bytes.
            var (run, segment) = InboundTcpRun();
            pump.Stage(1, run, PeerAPublic, segment);
            pump.Deliver(1, fd, Table);
            Assert.Equal(1, pump.Counters.Packets); // held in the open item until the flush
            pump.FlushCoalesced(fd);
            Assert.Equal(4, pump.Counters.Packets);
            Assert.Equal(packet.Length + run.Length, pump.Counters.Bytes);
            Assert.Equal(2, pump.Counters.Syscalls);
            Assert.Equal(0, pump.Counters.TotalDrops);
            Assert.False(pump.DeviceGone);
        });
    }

    [NeedsRoot] // a TUN device in a namespace
    [Fact]
    public void A_device_that_is_down_is_a_tun_down_drop_and_writing_resumes_once_it_is_up()
    {
        WithTun((ns, tun, fd) =>
        {
            using var pump = new WireToTun(tun.VnetHeader);
            ns.Ip("link", "set", tun.Name, "down");
            pump.Stage(0, Inbound(), PeerAPublic);
            pump.Deliver(0, fd, Table);
            Assert.Equal(1, pump.Counters.Drops(DropReason.TunDown));
            Assert.Equal(0, pump.Counters.Packets);
            Assert.False(pump.DeviceGone); // the reconcile loop sets it up again: keep going

            ns.Ip("link", "set", tun.Name, "up");
            pump.Stage(0, Inbound(), PeerAPublic);
            pump.Deliver(0, fd, Table);
            Assert.Equal(1, pump.Counters.Packets);
            Assert.Equal(1, pump.Counters.TotalDrops);
        });
    }

    [NeedsRoot] // a TUN device in a namespace
    [Fact]
    public void A_deleted_device_sets_DeviceGone_and_nothing_more_is_written()
    {
        WithTun((ns, tun, fd) =>
        {
            using var pump = new WireToTun(tun.VnetHeader);
            var (run, segment) = InboundTcpRun();
            pump.Stage(0, run, PeerAPublic, segment);
            pump.Deliver(0, fd, Table);          // three segments held for one merged write
            ns.Ip("link", "del", tun.Name);
            pump.FlushCoalesced(fd);             // EBADFD: the kernel has no device behind this descriptor
            Assert.True(pump.DeviceGone);
            Assert.Equal(3, pump.Counters.Drops(DropReason.TunGone));
            Assert.Equal(1, pump.Counters.Syscalls);

            // From now on no system call at all: every datagram of a receive counts as tun-gone.
            pump.Stage(1, Inbound(), PeerAPublic);
            pump.Stage(2, run, PeerAPublic, segment);
            pump.Deliver(1, fd, Table);
            pump.Deliver(2, fd, Table);
            pump.FlushCoalesced(fd);
            Assert.Equal(1, pump.Counters.Syscalls);
            Assert.Equal(3 + 1 + 3, pump.Counters.Drops(DropReason.TunGone));
            Assert.Equal(0, pump.Counters.Packets);
            Assert.Equal(pump.Counters.Drops(DropReason.TunGone), pump.Counters.TotalDrops);

            pump.ResetDevice();
            Assert.False(pump.DeviceGone);
        });
    }

    [Unit]
    [Fact]
    public async Task EAGAIN_is_one_attempt_and_a_tun_full_drop()
    {
        // A full non-blocking pipe answers writev with EAGAIN, as a TUN whose send budget is used up would.
        var (read, write) = NonBlockingPipe();
        try
        {
            FillPipe(write);
            using var pump = new WireToTun(vnetHeader: false);
            pump.Stage(0, Inbound(), PeerAPublic);
            // An unbounded retry would never return: the pipe is never drained.
            await Task.Run(() => pump.Deliver(0, write, Table)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(1, pump.Counters.Syscalls);
            Assert.Equal(1, pump.Counters.Drops(DropReason.TunFull));
            Assert.Equal(1, pump.Counters.TotalDrops);
            Assert.False(pump.DeviceGone);
        }
        finally
        {
            _ = LibC.close(read);
            _ = LibC.close(write);
        }
    }

    [Unit]
    [Fact]
    public void Any_other_errno_is_tun_write_failed_and_not_a_gone_device()
    {
        // EBADF (a descriptor opened read-only) is not the kernel's "no device" EBADFD.
        using var readOnly = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        using var pump = new WireToTun(vnetHeader: true);
        pump.Stage(0, Inbound(), PeerAPublic);
        pump.Deliver(0, (int)readOnly.DangerousGetHandle(), Table);
        Assert.Equal(1, pump.Counters.Drops(DropReason.TunWriteFailed));
        Assert.Equal(1, pump.Counters.Syscalls);
        Assert.False(pump.DeviceGone);
    }

    [Unit]
    [Fact]
    public void DatagramsIn_counts_every_GRO_segment()
    {
        using var pump = new WireToTun(vnetHeader: true);
        pump.Stage(0, Inbound(), PeerAPublic);                    // plain: 1
        pump.Stage(1, new byte[500], PeerAPublic, groSegment: 100); // 5 equal segments
        pump.Stage(2, new byte[450], PeerAPublic, groSegment: 100); // 4 and a short one
        pump.Stage(3, new byte[80], PeerAPublic, groSegment: 100);  // one datagram despite the cmsg
        Assert.Equal(1, pump.DatagramsIn(1));
        Assert.Equal(1 + 5 + 5 + 1, pump.DatagramsIn(4));
    }

    [Unit]
    [Fact]
    public void An_empty_datagram_is_too_short()
    {
        using var pump = new WireToTun(vnetHeader: true);
        pump.Stage(0, [], PeerAPublic);
        pump.Deliver(0, -1, Table);
        Assert.Equal(1, pump.Counters.Drops(DropReason.TooShort));
        Assert.Equal(0, pump.Counters.Syscalls);
    }

    private static unsafe (int Read, int Write) NonBlockingPipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, LibC.pipe2(fds, LibC.O_NONBLOCK | LibC.O_CLOEXEC));
        return (fds[0], fds[1]);
    }

    private static unsafe void FillPipe(int fd)
    {
        byte* chunk = stackalloc byte[4096];
        while (LibC.write(fd, chunk, 4096) > 0)
        {
        }
        Assert.Equal(LibC.EAGAIN, Marshal.GetLastPInvokeError());
    }
}
