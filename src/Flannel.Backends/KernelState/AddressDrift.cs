using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>Our address missing from the device, or another address of the device in its scope.</summary>
public sealed record AddressDrift(string Kind, IpNetwork Address) : Drift(Kind, DriftEntries.Address, null);
