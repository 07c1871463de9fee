using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flannel.Backends.Packets;

/// <summary>
/// The Internet checksum (RFC 1071). The one's-complement sum is byte-order independent, so the loop adds native
/// 32-bit halves of 64-bit words and swaps once at the end; values in and out are in network order.
/// </summary>
internal static class InternetChecksum
{
    /// <summary>The folded, non-inverted sum of <paramref name="data"/> plus <paramref name="initial"/>.</summary>
    public static ushort Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)Fold(initial)) : Fold(initial);
        ref byte p = ref MemoryMarshal.GetReference(data);
        int n = data.Length, i = 0;
        for (; i + 32 <= n; i += 32)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i));
            ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8));
            ulong c = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16));
            ulong d = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24));
            sum += (a & 0xFFFFFFFF) + (a >> 32) + (b & 0xFFFFFFFF) + (b >> 32) +
                   (c & 0xFFFFFFFF) + (c >> 32) + (d & 0xFFFFFFFF) + (d >> 32);
        }
        for (; i + 4 <= n; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        }
        if (i + 2 <= n)
        {
            sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i));
            i += 2;
        }
        if (i < n)
        {
            // An odd last byte is the high byte of a zero-padded network-order word; read natively that is the byte's
            // place in a native ushort of [b, 0].
            sum += BitConverter.IsLittleEndian ? Unsafe.Add(ref p, i) : (uint)Unsafe.Add(ref p, i) << 8;
        }
        ushort folded = (ushort)Fold(sum);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded;
    }

    /// <summary>The checksum to store: the inverted sum.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, uint initial = 0) => (ushort)~Sum(data, initial);

    /// <summary>The sum of the TCP/UDP pseudo-header (source, destination, zero, protocol, L4 length).</summary>
    public static uint PseudoHeaderSum(ReadOnlySpan<byte> sourceAndDestination, byte protocol, int l4Length) =>
        (uint)BinaryPrimitives.ReadUInt16BigEndian(sourceAndDestination) + BinaryPrimitives.ReadUInt16BigEndian(sourceAndDestination[2..]) +
        BinaryPrimitives.ReadUInt16BigEndian(sourceAndDestination[4..]) + BinaryPrimitives.ReadUInt16BigEndian(sourceAndDestination[6..]) +
        protocol + (uint)l4Length;

    public static uint Fold(ulong sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (uint)sum;
    }

    /// <summary>
    /// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changed from <paramref name="oldWord"/>
    /// to <paramref name="newWord"/> (HC' = ~(~HC + ~m + m')).
    /// </summary>
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord) =>
        (ushort)~Fold((uint)(ushort)~checksum + (ushort)~oldWord + newWord);
}
