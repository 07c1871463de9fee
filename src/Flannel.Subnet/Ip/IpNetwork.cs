namespace Flannel.Subnet.Ip;

/// <summary>
/// An IPv4 or an IPv6 prefix (the family of <see cref="Ip"/>); see <see cref="IpAddress"/> for why. A prefix never
/// contains an address or prefix of the other family.
/// </summary>
public readonly record struct IpNetwork(IpAddress Ip, int PrefixLength) : IComparable<IpNetwork>
{
    public IpFamily Family => Ip.Family;

    public bool IsIp6 => Ip.IsIp6;

    /// <summary>32 or 128.</summary>
    public int MaxPrefixLength => IsIp6 ? 128 : 32;

    public Ip4Network Ip4 => new(Ip.Ip4, PrefixLength);

    public Ip6Network Ip6 => new(Ip.Ip6, PrefixLength);

    public static implicit operator IpNetwork(Ip4Network network) => new(network.Ip, network.PrefixLength);

    public static implicit operator IpNetwork(Ip6Network network) => new(network.Ip, network.PrefixLength);

    /// <summary>The address alone: a /32 or a /128.</summary>
    public static IpNetwork Host(IpAddress address) => new(address, address.Length * 8);

    public bool Contains(IpAddress address) =>
        address.Family == Family && (IsIp6 ? Ip6.Contains(address.Ip6) : Ip4.Contains(address.Ip4));

    public bool Contains(IpNetwork other) => other.Family == Family && PrefixLength <= other.PrefixLength && Contains(other.Ip);

    public int CompareTo(IpNetwork other)
    {
        int c = Ip.CompareTo(other.Ip);
        return c != 0 ? c : PrefixLength.CompareTo(other.PrefixLength);
    }

    public static bool operator <(IpNetwork a, IpNetwork b) => a.CompareTo(b) < 0;
    public static bool operator >(IpNetwork a, IpNetwork b) => a.CompareTo(b) > 0;
    public static bool operator <=(IpNetwork a, IpNetwork b) => a.CompareTo(b) <= 0;
    public static bool operator >=(IpNetwork a, IpNetwork b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Ip}/{PrefixLength}";
}
