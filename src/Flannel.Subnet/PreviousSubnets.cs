using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>What the subnet file of a previous run says (compat §4): used to ask for the same subnet again.</summary>
public sealed record PreviousSubnets(Ip4Network? Network, Ip4Network? Subnet, Ip6Network? Ipv6Network, Ip6Network? Ipv6Subnet)
{
    public static readonly PreviousSubnets None = new(null, null, null, null);
}
