using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using Flannel.Backends.Packets;
using static Flannel.Backends.Interop.LinuxUdp;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>
/// The wire-to-TUN direction: recvmmsg into reused native buffers (with UDP_GRO one buffer can hold up to 64 datagrams
/// of a peer, cut apart here by the gso_size the kernel reports), check each datagram against the peer table, TTL-1,
/// and write each inner packet into the TUN with writev (a zero vnet header, then the packet in place).
/// </summary>
/// <remarks>
/// Over 400 lines on purpose: this is one thread's hot path (receive, cut GRO trains apart, check the source, write),
/// kept in one file so it reads top to bottom the way a packet goes.
/// </remarks>
internal sealed unsafe class WireToTun : IDisposable
{
    public const int MessagesPerBatch = 32;
    private const int BufferSize = 65536;
    private const int ControlSpace = 32;

    private readonly mmsghdr* _msgs;
    private readonly iovec* _iov;
    private readonly sockaddr_in* _names;
    private readonly byte* _control;
    private readonly byte* _buffers;
    private readonly iovec* _write;
    private readonly byte* _zeroHeader;
    private readonly bool _vnet;
    private readonly TcpCoalescer? _gro;

    public WireToTun(bool vnetHeader)
    {
        _vnet = vnetHeader;
        _gro = vnetHeader ? new TcpCoalescer() : null; // GSO writes need the vnet header
        _msgs = (mmsghdr*)NativeMemory.AllocZeroed((nuint)(MessagesPerBatch * sizeof(mmsghdr)));
        _iov = (iovec*)NativeMemory.AllocZeroed((nuint)(MessagesPerBatch * sizeof(iovec)));
        _names = (sockaddr_in*)NativeMemory.AllocZeroed((nuint)(MessagesPerBatch * sizeof(sockaddr_in)));
        _control = (byte*)NativeMemory.AllocZeroed(MessagesPerBatch * ControlSpace);
        _buffers = (byte*)NativeMemory.AlignedAlloc(MessagesPerBatch * BufferSize, 64);
        _write = (iovec*)NativeMemory.AllocZeroed((nuint)(2 * sizeof(iovec)));
        _zeroHeader = (byte*)NativeMemory.AllocZeroed(VirtioNetHeader.Length);
        for (int i = 0; i < MessagesPerBatch; i++)
        {
            _iov[i].iov_base = _buffers + i * BufferSize;
            _iov[i].iov_len = BufferSize;
            _msgs[i].msg_hdr.msg_iov = &_iov[i];
            _msgs[i].msg_hdr.msg_iovlen = 1;
            _msgs[i].msg_hdr.msg_name = &_names[i];
        }
    }

    public PumpCounters Counters { get; } = new();

    /// <summary>
    /// Set when a TUN write failed with EBADFD (or ENODEV): the device was deleted under us (<c>ip link del
    /// flannel0</c>) and this descriptor can never write again. From then on nothing is written: every datagram is
    /// counted as <see cref="DropReason.TunGone"/> without a system call. The thread loop should stop and let the
    /// device be re-created; <see cref="ResetDevice"/> clears it for a new descriptor. Read and written by the
    /// wire-to-TUN thread only.
    /// </summary>
    public bool DeviceGone { get; private set; }

    /// <summary>Clears <see cref="DeviceGone"/> before this instance writes to a newly opened TUN descriptor.</summary>
    public void ResetDevice() => DeviceGone = false;

    /// <summary>
    /// Checks one datagram from <paramref name="outerSource"/> (host order) and decrements its TTL in place. Beyond
    /// flanneld, which accepts anything on its port, the sender is checked as <see cref="PeerTable.SourceCheck"/> says
    /// (see <see cref="UdpSourceCheck"/>), so nobody can inject traffic into the overlay by sending to the port.
    /// </summary>
    /// <returns>True when the packet should be written into the TUN.</returns>
    public bool Process(Span<byte> datagram, uint outerSource, PeerTable peers)
    {
        if (datagram.Length < Ipv4Header.MinLength)
        {
            Counters.Drop(DropReason.TooShort);
            return false;
        }
        if (Ipv4Header.Version(datagram) != 4)
        {
            Counters.Drop(DropReason.NotIpv4);
            return false;
        }
        if (!Admitted(Ipv4Header.Source(datagram), outerSource, peers))
        {
            return false;
        }
        if (!Ipv4Header.DecrementTtl(datagram))
        {
            Counters.Drop(DropReason.TtlExpired);
            return false;
        }
        return true;
    }

    /// <summary>
    /// The source check. The peer is found by the inner source (the subnet that holds it), then its PublicIP compared
    /// with the outer source under <see cref="UdpSourceCheck.Strict"/>: leases sharing a PublicIP (a host that moved to
    /// a new subnet while its old lease lives on) each keep their own subnet. A refused datagram from some peer's
    /// PublicIP is that peer speaking for a subnet not its own (spoofed-source); from anywhere else it is unknown-peer,
    /// and its addresses are kept for the drop log, which names the peer whose subnet it claimed.
    /// </summary>
    private bool Admitted(uint innerSource, uint outerSource, PeerTable peers)
    {
        var check = peers.SourceCheck;
        if (check == UdpSourceCheck.Off)
        {
            return true;
        }
        int owner = peers.FindByDestination(innerSource);
        if (owner >= 0 && (check == UdpSourceCheck.Subnet || peers[owner].PublicIP.Value == outerSource))
        {
            return true;
        }
        if (peers.FindByPublicIp(outerSource) >= 0)
        {
            Counters.Drop(DropReason.SpoofedSource);
        }
        else
        {
            Counters.DropUnknownPeer(outerSource, innerSource);
        }
        return false;
    }

    /// <summary>
    /// The thread body: wait for the socket (or the stop event), drain it in batches, write into the TUN. A socket
    /// error is read off (SO_ERROR) and waiting goes on; one that poll keeps reporting, or a receive failing with
    /// anything but EAGAIN/EINTR, ends the run with <see cref="PumpExit.SocketFailed"/> rather than spinning.
    /// </summary>
    public PumpExit Run(SafeFdHandle socket, SafeFdHandle tun, SafeFdHandle stop, Func<PeerTable> peers, Action<string> exitDetail)
    {
        const int MaxErrorWakes = 8;
        using var sockFd = socket.Borrow();
        using var tunFd = tun.Borrow();
        using var stopFd = stop.Borrow();
        ResetDevice();
        int errorWakes = 0;
        while (true)
        {
            switch (PumpPoll.Wait(sockFd.Value, stopFd.Value))
            {
                case PumpWake.Stop:
                    return PumpExit.Stopped;
                case PumpWake.Error:
                    int pending = TakeSocketError(sockFd.Value);
                    if (++errorWakes > MaxErrorWakes)
                    {
                        exitDetail($"the UDP socket keeps reporting errors (last: {Marshal.GetPInvokeErrorMessage(pending)})");
                        return PumpExit.SocketFailed;
                    }
                    continue;
            }
            var table = peers();
            int received;
            do
            {
                for (int i = 0; i < MessagesPerBatch; i++)
                {
                    ref var h = ref _msgs[i].msg_hdr;
                    h.msg_namelen = (uint)sizeof(sockaddr_in);
                    h.msg_control = _control + i * ControlSpace;
                    h.msg_controllen = ControlSpace;
                    h.msg_flags = 0;
                }
                received = recvmmsg(sockFd.Value, _msgs, MessagesPerBatch, LibC.MSG_DONTWAIT, null);
                Counters.Syscall();
                if (received < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        received = MessagesPerBatch; // try again
                        continue;
                    }
                    if (errno != LibC.EAGAIN && ++errorWakes > MaxErrorWakes)
                    {
                        exitDetail($"recvmmsg failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
                        return PumpExit.SocketFailed;
                    }
                    break;
                }
                errorWakes = 0;
                if (received > 0)
                {
                    BackendMetrics.WireBatch.Record(DatagramsIn(received));
                }
                for (int i = 0; i < received; i++)
                {
                    Deliver(i, tunFd.Value, table);
                }
                FlushCoalesced(tunFd.Value);
                if (DeviceGone)
                {
                    // The TUN queue's threads see the same through poll; this one must not wait on its socket for it.
                    exitDetail("a write failed: the device is gone");
                    return PumpExit.TunGone;
                }
            }
            while (received == MessagesPerBatch);
        }
    }

    // Reading SO_ERROR clears a pending asynchronous error (sock_error()); poll stops reporting POLLERR for it.
    private static int TakeSocketError(int fd)
    {
        int error = 0;
        Tmds.Linux.socklen_t length = sizeof(int);
        _ = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ERROR, &error, &length);
        return error;
    }

    /// <summary>
    /// The datagrams in the first <paramref name="received"/> messages of the last recvmmsg: with UDP_GRO one message
    /// holds up to 64 datagrams of one peer, so the message count under-counts (for the batch histogram).
    /// </summary>
    internal int DatagramsIn(int received)
    {
        int total = 0;
        for (int i = 0; i < received; i++)
        {
            total += DatagramsOf(i);
        }
        return total;
    }

    private int DatagramsOf(int i)
    {
        int length = (int)_msgs[i].msg_len;
        int segment = GroSegmentSize(ref _msgs[i].msg_hdr);
        return segment > 0 && length > segment ? (length + segment - 1) / segment : 1;
    }

    /// <summary>
    /// The datagrams of received message <paramref name="i"/>: each is checked, then merged into the open GRO item or
    /// written into the TUN. Packets are counted as passed once their write succeeded. After <see cref="DeviceGone"/>
    /// nothing is written.
    /// </summary>
    internal void Deliver(int i, int tun, PeerTable table)
    {
        byte* data = _buffers + i * BufferSize;
        int length = (int)_msgs[i].msg_len;
        if (length == 0)
        {
            Counters.Drop(DropReason.TooShort);
            return;
        }
        if (DeviceGone)
        {
            Counters.Drop(DropReason.TunGone, DatagramsOf(i));
            return;
        }
        int segment = GroSegmentSize(ref _msgs[i].msg_hdr) is > 0 and var s ? s : length;
        uint source = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(_names[i].sin_addr) : _names[i].sin_addr;
        for (int at = 0; at < length; at += segment)
        {
            int n = Math.Min(segment, length - at);
            var packet = new Span<byte>(data + at, n);
            if (!Process(packet, source, table))
            {
                continue;
            }
            if (_gro is { } gro)
            {
                if (gro.HasItem && gro.TryAppend(packet))
                {
                    continue;
                }
                FlushCoalesced(tun);
                if (gro.TryOpen(packet))
                {
                    continue;
                }
            }
            WriteTun(tun, data + at, n, framed: false, packets: 1, bytes: n);
        }
    }

    /// <summary>Writes the open GRO item, if any (the end of each receive batch, and before anything else is written).</summary>
    internal void FlushCoalesced(int tun)
    {
        if (_gro is { HasItem: true } gro)
        {
            int packets = gro.Segments, bytes = gro.InputBytes;
            var frame = gro.Take();
            fixed (byte* f = frame)
            {
                WriteTun(tun, f, frame.Length, framed: true, packets, bytes);
            }
        }
    }

    // A non-blocking TUN write never sleeps in tun_get_user, so a signal has nothing to interrupt; EINTR is retried a
    // few times in case, never in an unbounded loop.
    private const int InterruptedRetries = 3;

    // Not in Tmds.Linux; asm-generic/errno.h.
    private const int EBADFD = 77;

    /// <summary>
    /// Writes one packet (<paramref name="framed"/>: it already starts with its vnet header) carrying
    /// <paramref name="packets"/> inner packets of <paramref name="bytes"/> bytes, and counts them as passed or dropped.
    /// </summary>
    private void WriteTun(int tun, byte* packet, int length, bool framed, int packets, int bytes)
    {
        if (DeviceGone)
        {
            Counters.Drop(DropReason.TunGone, packets);
            return;
        }
        int parts = 0;
        if (_vnet && !framed)
        {
            _write[0].iov_base = _zeroHeader;
            _write[0].iov_len = VirtioNetHeader.Length;
            parts = 1;
        }
        _write[parts].iov_base = packet;
        _write[parts].iov_len = (nuint)length;
        for (int attempt = 0; ; attempt++)
        {
            nint r = writev(tun, _write, parts + 1);
            Counters.Syscall();
            if (r >= 0)
            {
                Counters.Passed(packets, bytes);
                return;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR && attempt < InterruptedRetries)
            {
                continue;
            }
            Counters.Drop(Classify(errno), packets);
            return;
        }
    }

    /// <summary>Why a TUN write failed, from drivers/net/tun.c (tun_chr_write_iter, tun_get_user).</summary>
    private DropReason Classify(int errno)
    {
        if (errno == LibC.EAGAIN)
        {
            // tun_get_user allocates the skb with sock_alloc_send_pskb(..., noblock) on the queue's socket, so EAGAIN
            // means that socket's sk_sndbuf is used up (the kernel leaves EAGAIN out of rx_dropped, so this counter is
            // the only trace). The budget is INT_MAX unless TUNSETSNDBUF lowers it (we never do), and an skb's charge is
            // released when the stack takes it over (skb_orphan in ip_rcv_core), which for a plain write happens inside
            // the write itself (tun_rx_batched -> netif_receive_skb in our context). It can only build up where packets
            // wait in a backlog this thread cannot drain by retrying (RPS sending them to another CPU, IFF_NAPI). So
            // drop at once, as netif_rx drops at a full backlog (netdev_max_backlog) and as TCP copes with; flanneld's
            // retry-forever (tun_send_packet) would turn a stalled stack into a thread spinning at 100 %.
            return DropReason.TunFull;
        }
        if (errno == LibC.EIO)
        {
            // tun_get_user: the device is not IFF_UP (ip link set flannel0 down). It still exists and the reconcile loop
            // sets it up again within 10 s, so keep going.
            return DropReason.TunDown;
        }
        if (errno == EBADFD || errno == LibC.ENODEV)
        {
            // tun_chr_write_iter: tun_get() finds no device behind this file, it was deleted (or the queue detached) and
            // the descriptor stays useless. ENODEV is taken the same way: a vanished device.
            DeviceGone = true;
            return DropReason.TunGone;
        }
        return DropReason.TunWriteFailed;
    }

    /// <summary>The gso_size of a coalesced receive (a SOL_UDP/UDP_GRO control message), or 0.</summary>
    private static int GroSegmentSize(ref msghdr h)
    {
        if (h.msg_controllen < (nuint)(sizeof(cmsghdr) + sizeof(int)))
        {
            return 0;
        }
        var c = (cmsghdr*)h.msg_control;
        return c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= (nuint)(sizeof(cmsghdr) + sizeof(int))
            ? *(int*)(c + 1)
            : 0;
    }

    /// <summary>
    /// Puts <paramref name="datagram"/> into receive slot <paramref name="i"/> as recvmmsg would leave it: from
    /// <paramref name="outerSource"/> (host order), with a UDP_GRO control message when <paramref name="groSegment"/>
    /// is above 0 (tests).
    /// </summary>
    internal void Stage(int i, ReadOnlySpan<byte> datagram, uint outerSource, int groSegment = 0)
    {
        datagram.CopyTo(new Span<byte>(_buffers + i * BufferSize, BufferSize));
        _msgs[i].msg_len = (uint)datagram.Length;
        _names[i].sin_family = (ushort)LibC.AF_INET;
        _names[i].sin_addr = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(outerSource) : outerSource;
        ref var h = ref _msgs[i].msg_hdr;
        h.msg_control = _control + i * ControlSpace;
        if (groSegment > 0)
        {
            var c = (cmsghdr*)h.msg_control;
            c->cmsg_len = (nuint)(sizeof(cmsghdr) + sizeof(int));
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_GRO;
            *(int*)(c + 1) = groSegment;
            h.msg_controllen = (nuint)(sizeof(cmsghdr) + sizeof(int));
        }
        else
        {
            h.msg_controllen = 0;
        }
    }

    public void Dispose()
    {
        NativeMemory.Free(_msgs);
        NativeMemory.Free(_iov);
        NativeMemory.Free(_names);
        NativeMemory.Free(_control);
        NativeMemory.AlignedFree(_buffers);
        NativeMemory.Free(_write);
        NativeMemory.Free(_zeroHeader);
        _gro?.Dispose();
    }
}
