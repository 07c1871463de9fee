namespace Flannel.Daemon.Commands.Status;

/// <summary>One difference between the leases and the kernel.</summary>
/// <param name="Kind">missing, stale or wrong (an entry for the right key with the wrong content).</param>
/// <param name="Entry">device, route, neighbour or fdb.</param>
/// <param name="Text">What an operator reads: "missing route 10.5.3.0/24 via 10.5.3.0 dev flannel.1 onlink".</param>
/// <param name="Subnet">The peer subnet concerned, when there is one.</param>
internal sealed record StatusDrift(string Kind, string Entry, string Text, string? Subnet);
