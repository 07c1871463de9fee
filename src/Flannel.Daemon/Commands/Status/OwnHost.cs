using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>How this host's own lease is recognised; it is never a peer.</summary>
/// <param name="Subnet">FLANNEL_SUBNET of the subnet file (masked), if any.</param>
/// <param name="PublicIp">--public-ip, if given.</param>
/// <param name="Source">Where it came from, for the report ("/run/flannel/subnet.env", "--public-ip").</param>
internal sealed record OwnHost(Ip4Network? Subnet, Ip4Address? PublicIp, string Source)
{
    public static readonly OwnHost Unknown = new(null, null, "");

    public bool IsKnown => Subnet is not null || PublicIp is not null;

    public bool Owns(Lease lease) =>
        (Subnet is { } s && lease.Key.Subnet.Network == s.Network) || (PublicIp is { } ip && lease.Attrs.PublicIP == ip);
}
