using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Backends.Interop;

namespace Flannel.Backends.Packets;

/// <summary>
/// Receive-side GRO toward the TUN: consecutive in-order TCPv4 segments of one flow are merged into one GSO_TCPV4
/// super-packet, so the kernel takes up to 64 KB per write instead of one MTU. One open item at a time (packets from a
/// peer arrive as runs of one flow); anything else flushes it, so packets are never reordered. The merge rules follow
/// wireguard-go's tcpGRO (flags exactly ACK or ACK|PSH, same ACK number, TTL, TOS, DF and options, exact sequence
/// continuation, no segment after a short one or a PSH) and every merged segment's checksum is verified first, because
/// the kernel trusts a NEEDS_CSUM packet's payload.
/// </summary>
public sealed unsafe class TcpCoalescer : IDisposable
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

    public TcpCoalescer()
    {
        _buffer = (byte*)NativeMemory.AlignedAlloc(VirtioNetHeader.Length + MaxLength, 64);
    }

    /// <summary>An item is open (at least one packet is held).</summary>
    public bool HasItem => _segments > 0;

    /// <summary>Segments merged into the open item.</summary>
    public int Segments => _segments;

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
        return true;
    }

    /// <summary>Appends <paramref name="packet"/> to the open item when it continues it exactly.</summary>
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
            packet[1] != head[1] || (packet[6] & 0xE0) != (head[6] & 0xE0) || packet[8] != head[8] ||
            !packet.Slice(12, 8).SequenceEqual(head.Slice(12, 8)) ||            // addresses
            !packet.Slice(ipl, 4).SequenceEqual(head.Slice(ipl, 4)) ||          // ports
            !packet.Slice(ipl + 8, 4).SequenceEqual(head.Slice(ipl + 8, 4)) ||  // ACK number
            !packet.Slice(ipl + 20, tcpl - 20).SequenceEqual(head.Slice(ipl + 20, tcpl - 20)))
        {
            return false;
        }
        if (!_headVerified)
        {
            if (!TcpChecksumValid(head[.._length], _ipl))
            {
                return false;
            }
            _headVerified = true;
        }
        if (!TcpChecksumValid(packet, ipl))
        {
            return false;
        }
        packet[(ipl + tcpl)..].CopyTo(head[_length..]);
        _length += payload;
        _segments++;
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
        return frame;
    }

    private const byte TcpAck = 0x10;
    private const byte TcpPsh = 0x08;

    private static bool IsCandidate(ReadOnlySpan<byte> p, out int ipl, out int tcpl)
    {
        ipl = tcpl = 0;
        if (p.Length < 40 || p[0] != 0x45 || p[9] != Ipv4Header.ProtocolTcp || Ipv4Header.TotalLength(p) != p.Length ||
            (BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x3FFF) != 0) // MF or an offset: a fragment
        {
            return false;
        }
        ipl = 20;
        tcpl = (p[ipl + 12] >> 4) * 4;
        byte flags = p[ipl + 13];
        return tcpl >= 20 && ipl + tcpl < p.Length && (flags == TcpAck || flags == (TcpAck | TcpPsh));
    }

    private static bool TcpChecksumValid(ReadOnlySpan<byte> p, int ipl)
    {
        uint pseudo = InternetChecksum.PseudoHeaderSum(p.Slice(12, 8), Ipv4Header.ProtocolTcp, p.Length - ipl);
        return InternetChecksum.Sum(p[ipl..], pseudo) == 0xFFFF;
    }

    public void Dispose() => NativeMemory.AlignedFree(_buffer);
}
