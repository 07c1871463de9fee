using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>One difference between a backend's <see cref="DesiredState"/> and the kernel.</summary>
/// <param name="Kind">One of <see cref="DriftKinds"/>.</param>
/// <param name="Entry">One of <see cref="DriftEntries"/>.</param>
/// <param name="Subnet">The peer subnet concerned (a stale route's destination), when there is one.</param>
public abstract record Drift(string Kind, string Entry, IpNetwork? Subnet);
