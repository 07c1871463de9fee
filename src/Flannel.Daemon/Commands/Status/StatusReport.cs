namespace Flannel.Daemon.Commands.Status;

// The report is printed as a table and serialized as JSON (StatusJsonContext): plain strings and numbers only, so the
// two outputs carry the same content and the JSON needs no converters.

/// <summary>What <c>flanneld status</c> found.</summary>
public sealed record StatusReport(
    StatusConfig Config,
    StatusOwnLease Own,
    IReadOnlyList<StatusLeaseRow> Leases,
    IReadOnlyList<StatusDrift> Drift)
{
    public bool HasDrift => Drift.Count > 0;

    /// <summary>Host problems next to the drift that do not count as drift (a daemon.json that stops dockerd).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The network config in effect and the device its backend uses.</summary>
/// <param name="Device">flannel.VNI for vxlan, flannel0 for udp, null for host-gw.</param>
/// <param name="DevicePresent">Whether that device exists (true when there is none to have).</param>
public sealed record StatusConfig(
    string Key,
    string Network,
    int SubnetLen,
    string SubnetMin,
    string SubnetMax,
    string BackendType,
    string Backend,
    string? Device,
    bool DevicePresent);

/// <summary>This host's lease: the subnet found in etcd, or null, and how it was looked for.</summary>
public sealed record StatusOwnLease(string? Subnet, string Source);

/// <summary>
/// One lease. <see cref="Programmed"/> is one of the <see cref="ProgrammedStates"/>; <see cref="Detail"/> says what is
/// missing or why nothing is expected.
/// </summary>
/// <param name="ExpiresInSeconds">The etcd lease's remaining TTL; null when the key has no lease (never expires).</param>
public sealed record StatusLeaseRow(
    string Subnet,
    string PublicIP,
    string BackendType,
    long? ExpiresInSeconds,
    bool Own,
    string Programmed,
    string? Detail);

public static class ProgrammedStates
{
    /// <summary>Our own lease: never a peer.</summary>
    public const string ThisHost = "this-host";
    /// <summary>Every entry the lease asks for is in the kernel.</summary>
    public const string Yes = "yes";
    /// <summary>Some but not all of them.</summary>
    public const string Partly = "partly";
    /// <summary>None of them.</summary>
    public const string No = "no";
    /// <summary>The backend ignores this lease (another backend type, no VtepMAC).</summary>
    public const string NotExpected = "not-expected";
    /// <summary>udp keeps its peers in the daemon's memory, not in the kernel.</summary>
    public const string InDaemon = "in-daemon";
}

/// <summary>One difference between the leases and the kernel.</summary>
/// <param name="Kind">missing, stale or wrong (an entry for the right key with the wrong content).</param>
/// <param name="Entry">device, route, neighbour or fdb.</param>
/// <param name="Text">What an operator reads: "missing route 10.5.3.0/24 via 10.5.3.0 dev flannel.1 onlink".</param>
/// <param name="Subnet">The peer subnet concerned, when there is one.</param>
public sealed record StatusDrift(string Kind, string Entry, string Text, string? Subnet);
