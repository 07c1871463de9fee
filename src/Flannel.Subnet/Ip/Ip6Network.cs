namespace Flannel.Subnet.Ip;

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
