using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using LibC = Tmds.Linux.LibC;
using static Flannel.Backends.Interop.LinuxUdp;

namespace Flannel.Backends.Udp;

/// <summary>
/// Datagrams queued for one sendmmsg(2): each entry is one destination and either one packet or a run of equal-size
/// segments sent with UDP_SEGMENT (the kernel cuts them into one datagram each, so the wire still carries one inner
/// packet per datagram). Entries point into buffers the caller keeps alive until <see cref="Send"/>. Native memory,
/// allocated once.
/// </summary>
internal sealed unsafe class WireSendBatch : IDisposable
{
    private readonly mmsghdr* _msgs;
    private readonly iovec* _iov;
    private readonly sockaddr_in* _names;
    private readonly byte* _cmsgs;
    private readonly ushort _portNetworkOrder;

    public WireSendBatch(int capacity, ushort port, bool gso)
    {
        Capacity = capacity;
        Gso = gso;
        _portNetworkOrder = (ushort)((port >> 8) | (port << 8));
        _msgs = (mmsghdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(mmsghdr)));
        _iov = (iovec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(iovec)));
        _names = (sockaddr_in*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(sockaddr_in)));
        _cmsgs = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * CmsgSpaceInt));
    }

    public int Capacity { get; }

    /// <summary>
    /// Queued sendmmsg entries. Not the number of datagrams: an entry with UDP_SEGMENT carries up to 64, so batch
    /// statistics use <see cref="Datagrams"/>.
    /// </summary>
    public int Count { get; private set; }

    public int Free => Capacity - Count;

    /// <summary>UDP_SEGMENT in use; cleared for good when the kernel refuses it (EIO without tx checksum offload).</summary>
    public bool Gso { get; private set; }

    /// <summary>Datagrams (one inner packet each) the queued entries will put on the wire: what the TUN-to-wire batch histogram records.</summary>
    public int Datagrams { get; private set; }

    /// <summary>
    /// Queues <paramref name="length"/> bytes at <paramref name="data"/> for <paramref name="destination"/>
    /// (host order). With <paramref name="segmentLength"/> &gt; 0 the bytes are segments of that size (the last may be
    /// shorter). False when the batch lacks room: send first.
    /// </summary>
    public bool Add(byte* data, int length, int segmentLength, uint destination)
    {
        if (segmentLength <= 0 || length <= segmentLength)
        {
            if (Count == Capacity)
            {
                return false;
            }
            Put(data, length, 0, destination);
            return true;
        }
        int segments = (length + segmentLength - 1) / segmentLength;
        int perEntry = Gso ? Math.Clamp(MaxIpv4Payload / segmentLength, 1, UDP_MAX_SEGMENTS) : 1;
        if ((segments + perEntry - 1) / perEntry > Free)
        {
            return false;
        }
        for (int at = 0; at < length;)
        {
            int n = Math.Min(length - at, perEntry * segmentLength);
            Put(data + at, n, n > segmentLength ? segmentLength : 0, destination);
            at += n;
        }
        return true;
    }

    private void Put(byte* data, int length, int segmentLength, uint destination)
    {
        int i = Count++;
        Datagrams += segmentLength == 0 ? 1 : (length + segmentLength - 1) / segmentLength;
        _iov[i].iov_base = data;
        _iov[i].iov_len = (nuint)length;
        var name = &_names[i];
        name->sin_family = (ushort)LibC.AF_INET;
        name->sin_port = _portNetworkOrder;
        name->sin_addr = BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(destination) : destination;
        ref var h = ref _msgs[i].msg_hdr;
        h.msg_name = name;
        h.msg_namelen = (uint)sizeof(sockaddr_in);
        h.msg_iov = &_iov[i];
        h.msg_iovlen = 1;
        if (segmentLength > 0)
        {
            var c = (cmsghdr*)(_cmsgs + i * CmsgSpaceInt);
            c->cmsg_len = (nuint)(sizeof(cmsghdr) + sizeof(ushort));
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            *(ushort*)(c + 1) = (ushort)segmentLength;
            h.msg_control = c;
            h.msg_controllen = CmsgSpaceInt;
        }
        else
        {
            h.msg_control = null;
            h.msg_controllen = 0;
        }
    }

    /// <summary>
    /// Sends every queued entry (sendmmsg may stop early, so it loops) and empties the batch. An entry the kernel
    /// refuses is counted and skipped; the socket is blocking, so a full send buffer waits instead of dropping.
    /// </summary>
    public void Send(int fd, PumpCounters counters)
    {
        int done = 0;
        while (done < Count)
        {
            int n = sendmmsg(fd, _msgs + done, (uint)(Count - done), 0);
            counters.Syscall();
            if (n > 0)
            {
                done += n;
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }
            if (errno == LibC.EIO && Gso && _msgs[done].msg_hdr.msg_controllen != 0)
            {
                // UDP_SEGMENT needs tx checksum offload before kernel 6.11 (commit 10154dbded6d): stop using it and
                // send this entry's segments one by one.
                Gso = false;
                SendSegments(fd, done, counters);
            }
            else
            {
                counters.Drop(DropReason.SendFailed);
            }
            done++;
        }
        Count = 0;
        Datagrams = 0;
    }

    private void SendSegments(int fd, int entry, PumpCounters counters)
    {
        ref var h = ref _msgs[entry].msg_hdr;
        int segment = *(ushort*)((cmsghdr*)h.msg_control + 1);
        byte* data = (byte*)_iov[entry].iov_base;
        int length = (int)_iov[entry].iov_len;
        h.msg_control = null;
        h.msg_controllen = 0;
        for (int at = 0; at < length; at += segment)
        {
            _iov[entry].iov_base = data + at;
            _iov[entry].iov_len = (nuint)Math.Min(segment, length - at);
            counters.Syscall();
            if (sendmmsg(fd, _msgs + entry, 1, 0) != 1)
            {
                counters.Drop(DropReason.SendFailed);
            }
        }
    }

    public void Clear()
    {
        Count = 0;
        Datagrams = 0;
    }

    /// <summary>Entry <paramref name="i"/> as the kernel will see it (tests).</summary>
    public (IntPtr Data, int Length, int SegmentLength, uint Destination) Entry(int i)
    {
        ref var h = ref _msgs[i].msg_hdr;
        int seg = h.msg_controllen == 0 ? 0 : *(ushort*)((cmsghdr*)h.msg_control + 1);
        uint addr = _names[i].sin_addr;
        return ((IntPtr)_iov[i].iov_base, (int)_iov[i].iov_len, seg,
            BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(addr) : addr);
    }

    public void Dispose()
    {
        NativeMemory.Free(_msgs);
        NativeMemory.Free(_iov);
        NativeMemory.Free(_names);
        NativeMemory.Free(_cmsgs);
    }
}
