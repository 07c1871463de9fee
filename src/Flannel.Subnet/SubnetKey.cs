using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>A lease's identity: the IPv4 subnet and, for dual-stack leases, the IPv6 subnet.</summary>
public readonly record struct SubnetKey(Ip4Network Subnet, Ip6Network? Ipv6Subnet = null)
{
    public override string ToString() => SubnetKeyCodec.Format(this);

    /// <summary>The subnet of one family; null for IPv6 when the lease has none.</summary>
    public IpNetwork? SubnetOf(IpFamily family) => family == IpFamily.Ip6 ? Ipv6Subnet?.Network : Subnet.Network;

    public int CompareTo(SubnetKey other)
    {
        int c = Subnet.CompareTo(other.Subnet);
        if (c != 0)
        {
            return c;
        }
        return (Ipv6Subnet, other.Ipv6Subnet) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            ({ } a, { } b) => a.CompareTo(b),
        };
    }
}
