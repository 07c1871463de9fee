using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using Flannel.Backends.Packets;
using static Flannel.Backends.Interop.LinuxTun;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>
/// The TUN-to-wire direction of one queue: several non-blocking reads per wake-up into reused native slots, TSO
/// super-packets cut in userspace, everything for the batch sent with one sendmmsg (UDP_SEGMENT runs per peer).
/// </summary>
internal sealed unsafe class TunToWire : IDisposable
{
    public const int ReadsPerBatch = 16;
    private const int ReadSlot = VirtioNetHeader.Length + 65535;

    // A 64 KB super-packet cut at a small MSS repeats its headers per segment; 128 segments of up to 120 header bytes
    // is the most we accept (wireguard-go's limit is its 128 buffers).
    private const int MaxSegments = 128;
    private const int SplitSlot = 65535 + MaxSegments * 120;

    private readonly byte* _reads;
    private readonly byte* _splits;
    private readonly byte* _icmp;
    private readonly bool _vnet;

    public TunToWire(ushort port, bool vnetHeader, bool gso)
    {
        _vnet = vnetHeader;
        _reads = (byte*)NativeMemory.AlignedAlloc(ReadsPerBatch * ReadSlot, 64);
        _splits = (byte*)NativeMemory.AlignedAlloc(ReadsPerBatch * SplitSlot, 64);
        _icmp = (byte*)NativeMemory.AllocZeroed(VirtioNetHeader.Length + IcmpNetUnreachable.MaxLength);
        Batch = new WireSendBatch(ReadsPerBatch * MaxSegments, port, gso);
    }

    public PumpCounters Counters { get; } = new();

    public WireSendBatch Batch { get; }

    /// <summary>The TUN address (the lease's network address), the source of ICMP errors.</summary>
    public uint TunAddress { get; set; }

    /// <summary>The pending ICMP error after <see cref="TunVerdict.Unreachable"/>, with a zero vnet header when in use.</summary>
    public ReadOnlySpan<byte> Icmp => new(_icmp, IcmpLength);

    private int IcmpLength { get; set; }

    public Span<byte> ReadBuffer(int slot) => new(_reads + slot * ReadSlot, ReadSlot);

    /// <summary>
    /// One TUN read of <paramref name="length"/> bytes in slot <paramref name="slot"/>: validate, TTL-1, look up the
    /// peer, finish or split for the wire, and queue. The caller made sure the batch has room for a read's worth.
    /// </summary>
    public TunVerdict Process(int slot, int length, PeerTable peers)
    {
        byte* frame = _reads + slot * ReadSlot;
        int hdrLen = _vnet ? VirtioNetHeader.Length : 0;
        var packet = new Span<byte>(frame + hdrLen, Math.Max(0, length - hdrLen));
        if (packet.Length < Ipv4Header.MinLength)
        {
            return Drop(DropReason.TooShort);
        }
        if (Ipv4Header.Version(packet) != 4)
        {
            return Drop(DropReason.NotIpv4);
        }
        int peer = peers.FindByDestination(Ipv4Header.Destination(packet));
        if (peer < 0)
        {
            Counters.Drop(DropReason.NoRoute);
            IcmpLength = 0;
            int n = IcmpNetUnreachable.Write(packet, TunAddress, new Span<byte>(_icmp + hdrLen, IcmpNetUnreachable.MaxLength));
            if (n == 0)
            {
                return TunVerdict.Dropped;
            }
            IcmpLength = n + hdrLen;
            return TunVerdict.Unreachable;
        }
        if (!Ipv4Header.DecrementTtl(packet))
        {
            return Drop(DropReason.TtlExpired);
        }
        uint destination = peers[peer].PublicIP.Value;
        if (_vnet)
        {
            var h = VirtioNetHeader.Read(new ReadOnlySpan<byte>(frame, VirtioNetHeader.Length));
            if (h.Gso == VIRTIO_NET_HDR_GSO_TCPV4)
            {
                var output = new Span<byte>(_splits + slot * SplitSlot, SplitSlot);
                int count = TcpSegmentation.Split(packet, h.GsoSize, output, out int segment, out int total);
                // A segment no datagram can carry (gso_size is the kernel's word, but checked like everything else).
                if (count == 0 || count > MaxSegments || segment > Interop.LinuxUdp.MaxIpv4Payload)
                {
                    return Drop(DropReason.BadOffload);
                }
                if (!Batch.Add(_splits + slot * SplitSlot, total, segment, destination))
                {
                    return Drop(DropReason.SendFailed); // cannot happen: the caller keeps a read's worth of room
                }
                Counters.Passed(count, total);
                return TunVerdict.Queued;
            }
            if (h.Gso != VIRTIO_NET_HDR_GSO_NONE)
            {
                return Drop(DropReason.BadOffload);
            }
            if (h.NeedsChecksum && !TcpSegmentation.CompleteChecksum(packet, h.CsumStart, h.CsumOffset))
            {
                return Drop(DropReason.BadOffload);
            }
        }
        if (!Batch.Add(frame + hdrLen, packet.Length, 0, destination))
        {
            return Drop(DropReason.SendFailed);
        }
        Counters.Passed(1, packet.Length);
        return TunVerdict.Queued;
    }

    private TunVerdict Drop(DropReason reason)
    {
        Counters.Drop(reason);
        return TunVerdict.Dropped;
    }

    /// <summary>
    /// The thread body: wait for the TUN queue (or the stop event), drain up to <see cref="ReadsPerBatch"/> reads,
    /// send, repeat. Ends with <see cref="PumpExit.TunGone"/> when the queue reports an error or a read fails with
    /// anything but EAGAIN/EINTR (a deleted device fails every read with EBADFD, so going on would spin).
    /// </summary>
    public PumpExit Run(SafeFdHandle tun, SafeFdHandle socket, SafeFdHandle stop, Func<PeerTable> peers, Action<string> exitDetail)
    {
        using var tunFd = tun.Borrow();
        using var sockFd = socket.Borrow();
        using var stopFd = stop.Borrow();
        while (true)
        {
            switch (PumpPoll.Wait(tunFd.Value, stopFd.Value))
            {
                case PumpWake.Stop:
                    return PumpExit.Stopped;
                case PumpWake.Error:
                    exitDetail("poll reported an error");
                    return PumpExit.TunGone;
            }
            var table = peers();
            bool more = true;
            while (more)
            {
                int slot = 0;
                for (; slot < ReadsPerBatch; slot++)
                {
                    long n = LibC.read(tunFd.Value, _reads + slot * ReadSlot, ReadSlot);
                    Counters.Syscall();
                    if (n <= 0)
                    {
                        int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                        if (errno == LibC.EINTR)
                        {
                            slot--;
                            continue;
                        }
                        if (n < 0 && errno != LibC.EAGAIN)
                        {
                            Flush(sockFd.Value);
                            exitDetail($"read failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
                            return PumpExit.TunGone;
                        }
                        more = false;
                        break;
                    }
                    if (Process(slot, (int)n, table) == TunVerdict.Unreachable)
                    {
                        _ = LibC.write(tunFd.Value, _icmp, IcmpLength);
                        Counters.Icmp();
                    }
                }
                Flush(sockFd.Value);
                if (slot < ReadsPerBatch)
                {
                    more = false;
                }
            }
        }
    }

    private void Flush(int socket)
    {
        if (Batch.Count > 0)
        {
            BackendMetrics.TunBatch.Record(Batch.Datagrams);
            Batch.Send(socket, Counters);
        }
    }

    public void Dispose()
    {
        Batch.Dispose();
        NativeMemory.AlignedFree(_reads);
        NativeMemory.AlignedFree(_splits);
        NativeMemory.Free(_icmp);
    }
}
