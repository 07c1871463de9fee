using Flannel.Subnet.Leases;

namespace Flannel.Backends.KernelState;

/// <summary>A peer lease the backend puts nothing in the kernel for, and why.</summary>
/// <param name="InDaemon">The backend serves it from its own memory (udp's peer table) rather than ignoring it.</param>
public sealed record SkippedPeer(Lease Lease, string Reason, bool InDaemon = false);
