using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>An IPv4 or IPv6 address on a link, as <c>ip addr</c> shows it.</summary>
/// <param name="LinkIndex">ifa_index.</param>
/// <param name="Address">The local address (IFA_LOCAL; IFA_ADDRESS for IPv6) with its prefix length; host bits are kept.</param>
/// <param name="Scope">ifa_scope: Universe ("global"), Link, Host (127.0.0.1).</param>
/// <param name="Label">IFA_LABEL, e.g. "eth0" or "eth0:1".</param>
public sealed record AddressInfo(int LinkIndex, IpNetwork Address, RouteScope Scope, string? Label)
{
    public int PrefixLength => Address.PrefixLength;

    public IpFamily Family => Address.Family;
}
