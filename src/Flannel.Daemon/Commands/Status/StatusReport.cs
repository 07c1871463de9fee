namespace Flannel.Daemon.Commands.Status;

/// <summary>What <c>flanneld status</c> found.</summary>
internal sealed record StatusReport(
    StatusConfig Config,
    StatusOwnLease Own,
    IReadOnlyList<StatusLeaseRow> Leases,
    IReadOnlyList<StatusDrift> Drift)
{
    public bool HasDrift => Drift.Count > 0;

    /// <summary>Host problems next to the drift that do not count as drift (a daemon.json that stops dockerd).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
