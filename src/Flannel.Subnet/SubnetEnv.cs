using System.Globalization;
using System.Text;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>
/// The content of flannel's subnet.env (compat §4), which dockerd's options are made from (by
/// <c>mk-docker-opts.sh</c> or the daemon's <c>--docker-opts-file</c>). The daemon writes it; <see cref="TryRead"/>
/// (over <see cref="SubnetFile"/>'s parser) reads it back.
/// </summary>
/// <param name="Network">The IPv4 network of all hosts (config <c>Network</c>); null when IPv4 is disabled.</param>
/// <param name="Subnet">This host's IPv4 lease, e.g. 10.5.88.0/24; written as its first host, 10.5.88.1/24.</param>
/// <param name="Ipv6Network">The IPv6 network of all hosts; null when IPv6 is disabled.</param>
/// <param name="Ipv6Subnet">This host's IPv6 lease; written as its first host.</param>
/// <param name="Mtu">The backend's MTU (the interface MTU minus the encapsulation overhead).</param>
/// <param name="IpMasq">The value of <c>--ip-masq</c>: whether flanneld masquerades traffic leaving the overlay.</param>
public sealed record SubnetEnv(
    Ip4Network? Network,
    Ip4Network? Subnet,
    Ip6Network? Ipv6Network,
    Ip6Network? Ipv6Subnet,
    int Mtu,
    bool IpMasq)
{
    /// <summary>The FLANNEL_SUBNET value: the lease's first host address with the lease's prefix length.</summary>
    public string? SubnetText => Subnet is { } s ? $"{s.FirstHost}/{s.PrefixLength}" : null;

    /// <summary>The FLANNEL_IPV6_SUBNET value: the IPv6 lease's first host address with its prefix length.</summary>
    public string? Ipv6SubnetText => Ipv6Subnet is { } s ? $"{s.FirstHost}/{s.PrefixLength}" : null;

    /// <summary>
    /// The file as flanneld writes it: <c>KEY=value</c> lines without quotes, each ending in a newline, in the order
    /// FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ
    /// (the address lines only for what is set).
    /// </summary>
    public string Format()
    {
        var sb = new StringBuilder();
        Line(sb, "FLANNEL_NETWORK", Network?.ToString());
        Line(sb, "FLANNEL_SUBNET", SubnetText);
        Line(sb, "FLANNEL_IPV6_NETWORK", Ipv6Network?.ToString());
        Line(sb, "FLANNEL_IPV6_SUBNET", Ipv6SubnetText);
        Line(sb, "FLANNEL_MTU", Mtu.ToString(CultureInfo.InvariantCulture));
        Line(sb, "FLANNEL_IPMASQ", IpMasq ? "true" : "false");
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string name, string? value)
    {
        if (value is not null)
        {
            sb.Append(name).Append('=').Append(value).Append('\n');
        }
    }

    /// <summary>
    /// The values a running daemon wrote to <paramref name="path"/> (networks and subnets, MTU, IPMASQ), or null when
    /// there is no such file or it lacks the MTU.
    /// </summary>
    public static SubnetEnv? TryRead(string path)
    {
        if (SubnetFile.TryRead(path) is not { } file ||
            !file.Values.TryGetValue("FLANNEL_MTU", out var mtuText) ||
            !int.TryParse(mtuText, System.Globalization.CultureInfo.InvariantCulture, out int mtu))
        {
            return null;
        }
        return new SubnetEnv(file.Subnets.Network, file.Subnets.Subnet, file.Subnets.Ipv6Network, file.Subnets.Ipv6Subnet, mtu,
            file.Values.TryGetValue("FLANNEL_IPMASQ", out var masq) && masq == "true");
    }
}
