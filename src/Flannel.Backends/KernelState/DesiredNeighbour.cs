using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>A permanent neighbour (ARP or NDP) entry on the backend's device: vxlan's peer <c>.0 lladdr VtepMAC</c>.</summary>
public sealed record DesiredNeighbour(IpAddress Address, PhysicalAddress Mac);
