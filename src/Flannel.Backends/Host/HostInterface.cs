using Flannel.Subnet.Ip;

namespace Flannel.Backends.Host;

/// <summary>A network interface of this host with its IPv4 addresses in the kernel's order.</summary>
public sealed record HostInterface(string Name, int Index, int Mtu, IReadOnlyList<Ip4Address> Addresses);
