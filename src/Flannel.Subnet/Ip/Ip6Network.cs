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

/// <summary>An IPv6 prefix, like flannel's <c>ip.IP6Net</c>.</summary>
public readonly record struct Ip6Network(Ip6Address Ip, int PrefixLength)
{
    public UInt128 Mask => PrefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - PrefixLength);

    public bool IsEmpty => Ip.Value == UInt128.Zero && PrefixLength == 0;

    public Ip6Network Network => new(new Ip6Address(Ip.Value & Mask), PrefixLength);

    /// <summary>The number of addresses, as a shift count (2^(128-len)).</summary>
    public UInt128 Size => PrefixLength == 0 ? UInt128.MaxValue : UInt128.One << (128 - PrefixLength);

    public Ip6Network Next() => new(new Ip6Address(unchecked(Ip.Value + Size)), PrefixLength);

    public bool Contains(Ip6Address address) => (Ip.Value & Mask) == (address.Value & Mask);

    public bool Contains(Ip6Network other) => PrefixLength <= other.PrefixLength && Contains(other.Ip);

    public bool Overlaps(Ip6Network other)
    {
        UInt128 mask = PrefixLength < other.PrefixLength ? Mask : other.Mask;
        return (Ip.Value & mask) == (other.Ip.Value & mask);
    }

    public Ip6Address FirstHost => new(Network.Ip.Value + 1);

    public static bool TryParseCidr(ReadOnlySpan<char> s, out Ip6Network network)
    {
        network = default;
        int slash = s.IndexOf('/');
        if (slash < 0 || !Ip6Address.TryParse(s[..slash], out var ip) ||
            !Ip4Network.TryParsePrefix(s[(slash + 1)..], 128, out int len))
        {
            return false;
        }
        network = new Ip6Network(ip, len).Network;
        return true;
    }

    public static Ip6Network ParseCidr(string s) =>
        TryParseCidr(s, out var n) ? n : throw new FormatException($"invalid CIDR address: {s}");

    public int CompareTo(Ip6Network other)
    {
        int c = Ip.CompareTo(other.Ip);
        return c != 0 ? c : PrefixLength.CompareTo(other.PrefixLength);
    }

    public override string ToString() => $"{Ip}/{PrefixLength}";
}
