using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>
/// A neighbour entry missing (<see cref="Desired"/>), wrong (both: the kernel's entry has another MAC or is not
/// permanent) or stale (<see cref="Actual"/>).
/// </summary>
public sealed record NeighbourDrift(string Kind, IpNetwork? Subnet, DesiredNeighbour? Desired, Neighbour? Actual)
    : Drift(Kind, DriftEntries.Neighbour, Subnet);
