using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>A desired route missing (<see cref="Desired"/> set), or a route of the backend's nobody asks for (<see cref="Actual"/>).</summary>
public sealed record RouteDrift(string Kind, IpNetwork? Subnet, DesiredRoute? Desired, Route? Actual) : Drift(Kind, DriftEntries.Route, Subnet);
