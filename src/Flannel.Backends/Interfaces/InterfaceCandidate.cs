using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>A network interface of this host with its IPv4 addresses in the kernel's order.</summary>
public sealed record InterfaceCandidate(string Name, int Index, int Mtu, IReadOnlyList<Ip4Address> Addresses)
{
    /// <summary>Its global IPv6 addresses (not link-local, not loopback), in the kernel's order.</summary>
    public IReadOnlyList<Ip6Address> Ipv6Addresses { get; init; } = [];
}
