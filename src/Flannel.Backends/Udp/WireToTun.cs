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
    /// Checks one datagram from <paramref name="outerSource"/> (host order) and decrements its TTL in place.
    /// Beyond flanneld, which accepts anything on its port: the sender must be a peer's PublicIP and the inner source
    /// inside that peer's subnet, so nobody can inject traffic into the overlay by sending to the port.
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
        int peer = peers.FindByPublicIp(outerSource);
        if (peer < 0)
        {
            Counters.Drop(DropReason.UnknownPeer);
            return false;
        }
        if (!peers[peer].Subnet.Contains(new Flannel.Subnet.Ip.Ip4Address(Ipv4Header.Source(datagram))))
        {
            Counters.Drop(DropReason.SpoofedSource);
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
                    BackendMetrics.WireBatch.Record(received);
                }
                for (int i = 0; i < received; i++)
                {
                    Deliver(i, tunFd.Value, table);
                }
                FlushCoalesced(tunFd.Value);
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

    private void Deliver(int i, int tun, PeerTable table)
    {
        byte* data = _buffers + i * BufferSize;
        int length = (int)_msgs[i].msg_len;
        int segment = GroSegmentSize(ref _msgs[i].msg_hdr) is > 0 and var s ? s : length;
        uint source = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(_names[i].sin_addr) : _names[i].sin_addr;
        for (int at = 0; at < length; at += segment)
        {
            int n = Math.Min(segment, length - at);
            if (!Process(new Span<byte>(data + at, n), source, table))
            {
                continue;
            }
            Counters.Passed(1, n);
            if (_gro is { } gro)
            {
                var packet = new ReadOnlySpan<byte>(data + at, n);
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
            WriteTun(tun, data + at, n);
        }
    }

    private void FlushCoalesced(int tun)
    {
        if (_gro is { HasItem: true } gro)
        {
            var frame = gro.Take();
            fixed (byte* f = frame)
            {
                WriteTun(tun, f, frame.Length, framed: true);
            }
        }
    }

    /// <summary>Writes one packet; <paramref name="framed"/> when it already starts with its vnet header.</summary>
    private bool WriteTun(int tun, byte* packet, int length, bool framed = false)
    {
        int parts = 0;
        if (_vnet && !framed)
        {
            _write[0].iov_base = _zeroHeader;
            _write[0].iov_len = VirtioNetHeader.Length;
            parts = 1;
        }
        _write[parts].iov_base = packet;
        _write[parts].iov_len = (nuint)length;
        while (true)
        {
            nint r = writev(tun, _write, parts + 1);
            Counters.Syscall();
            if (r >= 0)
            {
                return true;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR || errno == LibC.EAGAIN)
            {
                continue; // flanneld retries on EAGAIN too; the TUN queue drains in microseconds
            }
            Counters.Drop(DropReason.TunWriteFailed);
            return false;
        }
    }

    /// <summary>The gso_size of a coalesced receive (a SOL_UDP/UDP_GRO control message), or 0.</summary>
    private static int GroSegmentSize(ref msghdr h)
    {
        if (h.msg_controllen < (nuint)sizeof(cmsghdr))
        {
            return 0;
        }
        var c = (cmsghdr*)h.msg_control;
        return c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO ? *(int*)(c + 1) : 0;
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
