using System.Buffers.Binary;

namespace Flannel.Backends.Packets;

/// <summary>Field access on an IPv4 header in place (RFC 791); every method assumes a checked length of 20 or more.</summary>
internal static class Ipv4Header
{
    public const int MinLength = 20;
    public const byte ProtocolIcmp = 1;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;

    public static int Version(ReadOnlySpan<byte> p) => p[0] >> 4;

    public static int HeaderLength(ReadOnlySpan<byte> p) => (p[0] & 0x0F) * 4;

    public static int TotalLength(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[2..]);

    public static byte Protocol(ReadOnlySpan<byte> p) => p[9];

    public static uint Source(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[12..]);

    public static uint Destination(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[16..]);

    /// <summary>The fragment offset in 8-byte units (0 for the first or only fragment).</summary>
    public static int FragmentOffset(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x1FFF;

    public static void SetTotalLength(Span<byte> p, int length) => BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)length);

    /// <summary>Recomputes the header checksum over the header's own length.</summary>
    public static void UpdateChecksum(Span<byte> p)
    {
        p[10] = 0;
        p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], InternetChecksum.Compute(p[..HeaderLength(p)]));
    }

    /// <summary>
    /// Decrements the TTL and patches the header checksum incrementally (RFC 1624), as flanneld's proxy does in both
    /// directions. False when the TTL was 0 or 1: the packet must be dropped.
    /// </summary>
    public static bool DecrementTtl(Span<byte> p)
    {
        byte ttl = p[8];
        if (ttl <= 1)
        {
            return false;
        }
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(p[8..]);
        p[8] = (byte)(ttl - 1);
        ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(p[8..]);
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(p[10..]);
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], InternetChecksum.Update(checksum, oldWord, newWord));
        return true;
    }
}
