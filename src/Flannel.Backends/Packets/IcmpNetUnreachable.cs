using System.Buffers.Binary;

namespace Flannel.Backends.Packets;

/// <summary>
/// The ICMP destination-unreachable / net-unreachable (type 3 code 0) flanneld's udp proxy writes back into the TUN for
/// a packet it has no route for (compat §6): source = the TUN address, TTL 8, id 0, no DF, payload = the offending IP
/// header and the first 8 bytes after it. Never for ICMP (no errors about errors, RFC 1122 3.2.2), non-first
/// fragments, or a header with the maximum 40 bytes of options (flanneld's limit).
/// </summary>
internal static class IcmpNetUnreachable
{
    public const int MaxLength = 20 + 8 + 60 + 8;

    private const byte Ttl = 8;

    /// <summary>Writes the reply for <paramref name="offender"/> into <paramref name="destination"/>.</summary>
    /// <returns>The reply's length, or 0 when none is due.</returns>
    public static int Write(ReadOnlySpan<byte> offender, uint tunAddress, Span<byte> destination)
    {
        if (offender.Length < Ipv4Header.MinLength || Ipv4Header.Protocol(offender) == Ipv4Header.ProtocolIcmp ||
            Ipv4Header.FragmentOffset(offender) != 0)
        {
            return 0;
        }
        int quoted = Math.Min(offender.Length, Ipv4Header.HeaderLength(offender) + 8);
        int length = 20 + 8 + quoted;
        // flanneld's send_net_unreachable refuses a header of 20 + MAX_IPOPTLEN (60) bytes or more; so do we.
        if (Ipv4Header.HeaderLength(offender) < Ipv4Header.MinLength || Ipv4Header.HeaderLength(offender) >= 60 ||
            destination.Length < length)
        {
            return 0;
        }
        var ip = destination[..20];
        ip.Clear();
        ip[0] = 0x45;
        Ipv4Header.SetTotalLength(ip, length);
        ip[8] = Ttl;
        ip[9] = Ipv4Header.ProtocolIcmp;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], tunAddress);
        offender.Slice(12, 4).CopyTo(ip[16..]);
        Ipv4Header.UpdateChecksum(ip);

        var icmp = destination.Slice(20, 8 + quoted);
        icmp[..8].Clear();
        icmp[0] = 3; // destination unreachable
        icmp[1] = 0; // net unreachable
        offender[..quoted].CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        return length;
    }
}
