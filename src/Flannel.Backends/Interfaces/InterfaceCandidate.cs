using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>A network interface of this host with its IPv4 addresses in the kernel's order.</summary>
public sealed record InterfaceCandidate(string Name, int Index, int Mtu, IReadOnlyList<Ip4Address> Addresses);
