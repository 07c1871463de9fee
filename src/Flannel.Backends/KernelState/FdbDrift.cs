using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>An FDB entry missing (<see cref="Desired"/>) or stale (<see cref="Actual"/>).</summary>
public sealed record FdbDrift(string Kind, IpNetwork? Subnet, DesiredFdb? Desired, FdbEntry? Actual) : Drift(Kind, DriftEntries.Fdb, Subnet);
