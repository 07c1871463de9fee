namespace Flannel.Backends.KernelState;

/// <summary>The difference between a desired state and the kernel: every entry that differs, and each peer's tally.</summary>
public sealed record DriftReport(IReadOnlyList<Drift> Drifts, IReadOnlyList<PeerDrift> Peers);
