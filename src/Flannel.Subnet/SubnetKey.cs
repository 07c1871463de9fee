using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>A lease's identity: the IPv4 subnet and, for dual-stack leases, the IPv6 subnet.</summary>
public readonly record struct SubnetKey(Ip4Network Subnet, Ip6Network? Ipv6Subnet = null)
{
    public override string ToString() => SubnetKeyCodec.Format(this);

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
