namespace Flannel.Subnet.Ip;

/// <summary>
/// An IPv4 prefix, like flannel's <c>ip.IP4Net</c>: the address is kept as given (host bits are not cleared unless
/// the value came from <see cref="ParseCidr"/>), because flannel keeps a lease key's address as written.
/// </summary>
public readonly record struct Ip4Network(Ip4Address Ip, int PrefixLength)
{
    public uint Mask => PrefixLength == 0 ? 0u : uint.MaxValue << (32 - PrefixLength);

    /// <summary>Number of addresses in the prefix (2^32 for /0).</summary>
    public ulong Size => 1UL << (32 - PrefixLength);

    public bool IsEmpty => Ip.Value == 0 && PrefixLength == 0;

    /// <summary>The prefix with host bits cleared.</summary>
    public Ip4Network Network => new(new Ip4Address(Ip.Value & Mask), PrefixLength);

    /// <summary>The next prefix of the same length (wraps at the top of the address space like flannel's uint32 does).</summary>
    public Ip4Network Next() => new(new Ip4Address(unchecked((uint)(Ip.Value + Size))), PrefixLength);

    public bool Contains(Ip4Address address) => (Ip.Value & Mask) == (address.Value & Mask);

    /// <summary>True when <paramref name="other"/> lies wholly inside this prefix.</summary>
    public bool Contains(Ip4Network other) => PrefixLength <= other.PrefixLength && Contains(other.Ip);

    /// <summary>Equal under the shorter of the two masks (flannel's <c>Overlaps</c>).</summary>
    public bool Overlaps(Ip4Network other)
    {
        uint mask = PrefixLength < other.PrefixLength ? Mask : other.Mask;
        return (Ip.Value & mask) == (other.Ip.Value & mask);
    }

    /// <summary>The first address after the network address (the <c>.1</c> that flannel writes as FLANNEL_SUBNET).</summary>
    public Ip4Address FirstHost => new(Network.Ip.Value + 1);

    /// <summary>Parses <c>a.b.c.d/len</c> like Go's <c>net.ParseCIDR</c>: the result has host bits cleared.</summary>
    public static bool TryParseCidr(ReadOnlySpan<char> s, out Ip4Network network)
    {
        network = default;
        int slash = s.IndexOf('/');
        if (slash < 0 || !Ip4Address.TryParse(s[..slash], out var ip) || !TryParsePrefix(s[(slash + 1)..], 32, out int len))
        {
            return false;
        }
        network = new Ip4Network(ip, len).Network;
        return true;
    }

    public static Ip4Network ParseCidr(string s) =>
        TryParseCidr(s, out var n) ? n : throw new FormatException($"invalid CIDR address: {s}");

    /// <summary>Decimal prefix length without sign or leading zeros (Go's <c>net.ParseCIDR</c> rules).</summary>
    internal static bool TryParsePrefix(ReadOnlySpan<char> s, int max, out int length)
    {
        length = 0;
        if (s.Length == 0 || s.Length > 3 || (s.Length > 1 && s[0] == '0'))
        {
            return false;
        }
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            length = (length * 10) + (c - '0');
        }
        return length <= max;
    }

    public int CompareTo(Ip4Network other)
    {
        int c = Ip.CompareTo(other.Ip);
        return c != 0 ? c : PrefixLength.CompareTo(other.PrefixLength);
    }

    public override string ToString() => $"{Ip}/{PrefixLength}";
}
