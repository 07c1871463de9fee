using System.Buffers.Binary;

namespace Flannel.Backends.Packets;

/// <summary>
/// Userspace TSO: cuts one TCPv4 super-packet the TUN handed over (GSO_TCPV4) into MSS-sized segments with complete
/// checksums, so every datagram on the wire holds one ordinary IPv4 packet, as flanneld peers expect (their TUN has no
/// vnet header and their kernel verifies checksums). The approach follows wireguard-go's gsoSplit; the code is ours.
/// </summary>
internal static class TcpSegmentation
{
    /// <summary>
    /// Writes the segments back to back into <paramref name="output"/>: segment i starts at i * segmentLength, all but
    /// the last are exactly segmentLength long.
    /// </summary>
    /// <returns>The number of segments, or 0 when the super-packet is malformed or does not fit.</returns>
    public static int Split(ReadOnlySpan<byte> packet, ushort gsoSize, Span<byte> output, out int segmentLength, out int totalLength)
    {
        segmentLength = totalLength = 0;
        if (packet.Length < Ipv4Header.MinLength || Ipv4Header.Version(packet) != 4 || Ipv4Header.Protocol(packet) != Ipv4Header.ProtocolTcp)
        {
            return 0;
        }
        // csum_start from the vnet header is not trusted: the IP header length is read from the packet, and hdr_len is
        // recomputed from the TCP data offset (wireguard-go handleVirtioRead: hdr_len can cover the whole first packet
        // on the forward path).
        int ipl = Ipv4Header.HeaderLength(packet);
        if (ipl < Ipv4Header.MinLength || packet.Length < ipl + 20)
        {
            return 0;
        }
        int tcpl = (packet[ipl + 12] >> 4) * 4;
        int hdr = ipl + tcpl;
        if (tcpl < 20 || hdr > packet.Length || gsoSize == 0)
        {
            return 0;
        }
        int payload = packet.Length - hdr;
        int count = payload == 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
        int needed = count * hdr + payload;
        if (needed > output.Length)
        {
            return 0;
        }

        ushort id0 = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        uint seq0 = BinaryPrimitives.ReadUInt32BigEndian(packet[(ipl + 4)..]);
        segmentLength = hdr + gsoSize;
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            int from = hdr + i * gsoSize;
            int n = Math.Min(gsoSize, packet.Length - from);
            var seg = output.Slice(at, hdr + n);
            packet[..hdr].CopyTo(seg);
            packet.Slice(from, n).CopyTo(seg[hdr..]);

            Ipv4Header.SetTotalLength(seg, hdr + n);
            BinaryPrimitives.WriteUInt16BigEndian(seg[4..], unchecked((ushort)(id0 + i)));
            Ipv4Header.UpdateChecksum(seg);

            var tcp = seg[ipl..];
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], unchecked(seq0 + (uint)(i * gsoSize)));
            if (i != count - 1)
            {
                tcp[13] &= 0xF6; // FIN and PSH belong to the last segment only
            }
            tcp[16] = 0;
            tcp[17] = 0;
            uint pseudo = InternetChecksum.PseudoHeaderSum(seg.Slice(12, 8), Ipv4Header.ProtocolTcp, tcpl + n);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Compute(tcp, pseudo));
            at += hdr + n;
        }
        totalLength = at;
        return count;
    }

    /// <summary>
    /// Completes a partial checksum (NEEDS_CSUM without GSO): the field holds the folded pseudo-header sum, the sum over
    /// [csum_start, end) is still to be added (virtio spec; wireguard-go gsoNoneChecksum).
    /// </summary>
    /// <returns>False when the offsets do not fit the packet.</returns>
    public static bool CompleteChecksum(Span<byte> packet, int csumStart, int csumOffset)
    {
        int field = csumStart + csumOffset;
        if (csumStart < Ipv4Header.MinLength || field + 2 > packet.Length)
        {
            return false;
        }
        ushort sum = InternetChecksum.Compute(packet[csumStart..]);
        // UDP sends a computed 0 as 0xFFFF (RFC 768); for TCP the sum of real data cannot be 0 after inversion here.
        if (sum == 0 && csumOffset == 6)
        {
            sum = 0xFFFF;
        }
        BinaryPrimitives.WriteUInt16BigEndian(packet[field..], sum);
        return true;
    }
}
