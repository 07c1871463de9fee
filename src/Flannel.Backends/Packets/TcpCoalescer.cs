using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Backends.Interop;

namespace Flannel.Backends.Packets;

/// <summary>
/// Receive-side GRO toward the TUN: consecutive in-order TCPv4 segments of one flow are merged into one GSO_TCPV4
/// super-packet, so the kernel takes up to 64 KB per write instead of one MTU. One open item at a time (packets from a
/// peer arrive as runs of one flow); anything else flushes it, so packets are never reordered.
/// <para>
/// A segment is merged only when the kernel's own GRO would merge it, so the receiving TCP sees what it would have
/// seen from a NIC: every field Linux compares must match (inet_gro_receive and inet_gro_flush for the IP header,
/// net/ipv4/af_inet.c and include/net/gro.h; tcp_gro_receive for TCP, net/ipv4/tcp_offload.c):
/// </para>
/// <list type="bullet">
/// <item>IP: version 4 with IHL 5 (no options); not a fragment and the reserved flag clear (inet_gro_receive flushes
/// on any of id's flag bits but DF); total length = the packet; a valid header checksum (ip_fast_csum); same
/// protocol (TCP), addresses, TTL, TOS (ECN bits included) and DF; IP ID continuing the head's (head + number of
/// segments so far) or, with DF, fixed (decided at the second segment, as ip_fixedid).</item>
/// <item>TCP: same ports; same ACK number; the 32-bit word of data offset, reserved bits, flags and window
/// (tcp_flag_word) identical except for PSH, FIN and CWR; options byte for byte (timestamps included: Linux compares
/// every option word, no exception); sequence number continuing exactly; payload of 1 byte or more and no larger than
/// the head's (the item's gso_size); nothing after a shorter segment or a PSH; a valid checksum (the kernel trusts a
/// NEEDS_CSUM packet's payload, tcp4_gro_receive validates before merging).</item>
/// </list>
/// Stricter than Linux in one place, following wireguard-go's tcpGRO: the flags must be exactly ACK or ACK|PSH, so a
/// FIN, CWR or ECE segment is never merged (Linux merges a FIN as the last segment and a CWR as the head). Not merging
/// is always correct. Linux does not compare the urgent pointer (URG flushes) nor, beyond validity, the checksum.
/// </summary>
internal sealed unsafe class TcpCoalescer : IDisposable
{
    private const int MaxLength = 65535;
    private readonly byte* _buffer;
    private int _length;
    private int _segments;
    private int _ipl;
    private int _tcpl;
    private int _gso;
    private uint _nextSeq;
    private bool _closed;
    private bool _headVerified;
    private bool _fixedId;
    private int _inputBytes;

    public TcpCoalescer()
    {
        _buffer = (byte*)NativeMemory.AlignedAlloc(VirtioNetHeader.Length + MaxLength, 64);
    }

    /// <summary>An item is open (at least one packet is held).</summary>
    public bool HasItem => _segments > 0;

    /// <summary>Segments merged into the open item.</summary>
    public int Segments => _segments;

    /// <summary>The bytes of the packets merged into the open item, as they came (each with its own headers).</summary>
    public int InputBytes => _inputBytes;

    private Span<byte> Item => new(_buffer + VirtioNetHeader.Length, MaxLength);

    /// <summary>Opens an item with <paramref name="packet"/> when it is a merge candidate (the item must be empty).</summary>
    public bool TryOpen(ReadOnlySpan<byte> packet)
    {
        if (!IsCandidate(packet, out int ipl, out int tcpl))
        {
            return false;
        }
        packet.CopyTo(Item);
        _length = packet.Length;
        _segments = 1;
        _ipl = ipl;
        _tcpl = tcpl;
        _gso = packet.Length - ipl - tcpl;
        _nextSeq = unchecked(BinaryPrimitives.ReadUInt32BigEndian(packet[(ipl + 4)..]) + (uint)_gso);
        _closed = (packet[ipl + 13] & TcpPsh) != 0;
        _headVerified = false;
        _fixedId = false;
        _inputBytes = packet.Length;
        return true;
    }

    /// <summary>Appends <paramref name="packet"/> to the open item when it continues it exactly (see the class comment).</summary>
    public bool TryAppend(ReadOnlySpan<byte> packet)
    {
        if (_segments == 0 || _closed || _segments >= 64 || !IsCandidate(packet, out int ipl, out int tcpl) || ipl != _ipl || tcpl != _tcpl)
        {
            return false;
        }
        int payload = packet.Length - ipl - tcpl;
        var head = Item;
        if (payload > _gso || _length + payload > MaxLength ||
            BinaryPrimitives.ReadUInt32BigEndian(packet[(ipl + 4)..]) != _nextSeq ||
            packet[1] != head[1] ||                                            // TOS, ECN bits included
            (packet[6] & IpDf) != (head[6] & IpDf) ||
            packet[8] != head[8] ||                                            // TTL
            !packet.Slice(12, 8).SequenceEqual(head.Slice(12, 8)) ||           // addresses
            !packet.Slice(ipl, 4).SequenceEqual(head.Slice(ipl, 4)) ||         // ports
            !packet.Slice(ipl + 8, 4).SequenceEqual(head.Slice(ipl + 8, 4)) || // ACK number
            packet[ipl + 12] != head[ipl + 12] ||                              // data offset, reserved bits (AE)
            (packet[ipl + 13] & ~TcpPsh) != (head[ipl + 13] & ~TcpPsh) ||      // flags but PSH (both ACK here)
            !packet.Slice(ipl + 14, 2).SequenceEqual(head.Slice(ipl + 14, 2)) || // window: a change must reach TCP
            !packet.Slice(ipl + 20, tcpl - 20).SequenceEqual(head.Slice(ipl + 20, tcpl - 20)) ||
            !IpIdContinues(packet))
        {
            return false;
        }
        if (!_headVerified)
        {
            if (!Ipv4ChecksumValid(head, _ipl) || !TcpChecksumValid(head[.._length], _ipl))
            {
                return false;
            }
            _headVerified = true;
        }
        if (!Ipv4ChecksumValid(packet, ipl) || !TcpChecksumValid(packet, ipl))
        {
            return false;
        }
        if (_segments == 1)
        {
            _fixedId = IpId(packet) == IpId(head);
        }
        packet[(ipl + tcpl)..].CopyTo(head[_length..]);
        _length += payload;
        _segments++;
        _inputBytes += packet.Length;
        _nextSeq = unchecked(_nextSeq + (uint)payload);
        if ((packet[ipl + 13] & TcpPsh) != 0)
        {
            head[ipl + 13] |= TcpPsh;
            _closed = true;
        }
        if (payload < _gso)
        {
            _closed = true; // a short segment ends the item: GSO segments are all gso_size but the last
        }
        return true;
    }

    /// <summary>
    /// inet_gro_flush's IP ID rule: the n-th appended segment carries the head's ID + n (mod 2^16), or, when the second
    /// segment repeats the head's ID and DF is set, every segment does (an atomic datagram's ID means nothing, RFC
    /// 6864). Linux has long required DF for the fixed-ID case (recent net-next work relaxes it); we keep the
    /// requirement, since our virtio header cannot carry SKB_GSO_TCP_FIXEDID and a kernel that re-segments the item
    /// numbers the segments from the head's ID.
    /// </summary>
    private bool IpIdContinues(ReadOnlySpan<byte> packet)
    {
        ushort head = IpId(Item), id = IpId(packet);
        if (_segments == 1 && id == head)
        {
            return (packet[6] & IpDf) != 0;
        }
        return _fixedId ? id == head : id == (ushort)(head + _segments);
    }

    private static ushort IpId(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[4..]);

    /// <summary>
    /// Closes the open item and returns what to write into the TUN: a 10-byte virtio header then the packet. A single
    /// packet goes as it came (zero header, its own checksum); a merged one as GSO_TCPV4 with a partial checksum.
    /// </summary>
    public ReadOnlySpan<byte> Take()
    {
        var frame = new Span<byte>(_buffer, VirtioNetHeader.Length + _length);
        frame[..VirtioNetHeader.Length].Clear();
        if (_segments > 1)
        {
            var p = frame[VirtioNetHeader.Length..];
            Ipv4Header.SetTotalLength(p, _length);
            Ipv4Header.UpdateChecksum(p);
            // The TCP checksum field holds the folded pseudo-header sum, not inverted: CHECKSUM_PARTIAL's contract.
            uint pseudo = InternetChecksum.PseudoHeaderSum(p.Slice(12, 8), Ipv4Header.ProtocolTcp, _length - _ipl);
            BinaryPrimitives.WriteUInt16BigEndian(p[(_ipl + 16)..], (ushort)InternetChecksum.Fold(pseudo));
            frame[0] = LinuxTun.VIRTIO_NET_HDR_F_NEEDS_CSUM;
            frame[1] = LinuxTun.VIRTIO_NET_HDR_GSO_TCPV4;
            BinaryPrimitives.WriteUInt16LittleEndian(frame[2..], (ushort)(_ipl + _tcpl));
            BinaryPrimitives.WriteUInt16LittleEndian(frame[4..], (ushort)_gso);
            BinaryPrimitives.WriteUInt16LittleEndian(frame[6..], (ushort)_ipl);
            BinaryPrimitives.WriteUInt16LittleEndian(frame[8..], 16);
        }
        _segments = 0;
        _inputBytes = 0;
        return frame;
    }

    private const byte TcpAck = 0x10;
    private const byte TcpPsh = 0x08;
    private const byte IpDf = 0x40;

    private static bool IsCandidate(ReadOnlySpan<byte> p, out int ipl, out int tcpl)
    {
        ipl = tcpl = 0;
        if (p.Length < 40 || p[0] != 0x45 || p[9] != Ipv4Header.ProtocolTcp || Ipv4Header.TotalLength(p) != p.Length ||
            (BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0xBFFF) != 0) // all but DF: reserved bit, MF, offset
        {
            return false;
        }
        ipl = 20;
        tcpl = (p[ipl + 12] >> 4) * 4;
        byte flags = p[ipl + 13];
        return tcpl >= 20 && ipl + tcpl < p.Length && (flags == TcpAck || flags == (TcpAck | TcpPsh));
    }

    private static bool Ipv4ChecksumValid(ReadOnlySpan<byte> p, int ipl) => InternetChecksum.Sum(p[..ipl]) == 0xFFFF;

    private static bool TcpChecksumValid(ReadOnlySpan<byte> p, int ipl)
    {
        uint pseudo = InternetChecksum.PseudoHeaderSum(p.Slice(12, 8), Ipv4Header.ProtocolTcp, p.Length - ipl);
        return InternetChecksum.Sum(p[ipl..], pseudo) == 0xFFFF;
    }

    public void Dispose() => NativeMemory.AlignedFree(_buffer);
}
