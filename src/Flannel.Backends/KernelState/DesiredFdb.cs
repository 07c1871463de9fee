using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>A permanent FDB entry on the backend's device: vxlan's <c>VtepMAC dst PublicIP self permanent</c>.</summary>
public sealed record DesiredFdb(PhysicalAddress Mac, IpAddress Destination);
