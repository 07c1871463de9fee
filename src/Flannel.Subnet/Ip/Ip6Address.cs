using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flannel.Subnet.Ip;

/// <summary>An IPv6 address as a host-order <see cref="UInt128"/>; formatted the way Go prints IPv6 (RFC 5952).</summary>
public readonly record struct Ip6Address(UInt128 Value) : IComparable<Ip6Address>
{
    public static bool TryParse(ReadOnlySpan<char> s, out Ip6Address address)
    {
        address = default;
        // IPAddress accepts scope ids and IPv4 forms; flannel only ever stores plain IPv6 text.
        if (s.IndexOf('%') >= 0 || s.IndexOf(':') < 0 || !IPAddress.TryParse(s, out var ip) ||
            ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        address = new Ip6Address(BinaryPrimitives.ReadUInt128BigEndian(bytes));
        return true;
    }

    public static Ip6Address Parse(string s) =>
        TryParse(s, out var a) ? a : throw new FormatException($"invalid IPv6 address: {s}");

    public int CompareTo(Ip6Address other) => Value.CompareTo(other.Value);

    public static bool operator <(Ip6Address a, Ip6Address b) => a.Value < b.Value;
    public static bool operator >(Ip6Address a, Ip6Address b) => a.Value > b.Value;
    public static bool operator <=(Ip6Address a, Ip6Address b) => a.Value <= b.Value;
    public static bool operator >=(Ip6Address a, Ip6Address b) => a.Value >= b.Value;

    /// <summary>RFC 5952: lowercase hex, no leading zeros, the longest run (first on a tie) of two or more zero groups as <c>::</c>.</summary>
    public override string ToString()
    {
        Span<ushort> groups = stackalloc ushort[8];
        for (int i = 0; i < 8; i++)
        {
            groups[i] = (ushort)(Value >> (112 - (16 * i)));
        }
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8;)
        {
            if (groups[i] != 0)
            {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0)
            {
                i++;
            }
            if (i - start > bestLen && i - start >= 2)
            {
                bestStart = start;
                bestLen = i - start;
            }
        }
        var sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                sb.Append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.Length > 0 && sb[^1] != ':')
            {
                sb.Append(':');
            }
            sb.Append(groups[i].ToString("x", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
