using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Etcd;

/// <summary>
/// The etcd operations flannel needs, one call each (flannel's <c>Registry</c>). A failed call throws an
/// <see cref="EtcdException"/>; a call cancelled by its token an <see cref="OperationCanceledException"/>.
/// </summary>
public interface ISubnetRegistry
{
    /// <summary>The raw config JSON, or null when the key does not exist.</summary>
    Task<string?> GetNetworkConfigAsync(CancellationToken ct);

    /// <summary>All leases that parse, and the revision of that snapshot.</summary>
    Task<LeaseSnapshot> GetLeasesAsync(CancellationToken ct);

    /// <summary>Creates the lease only if no key exists for that subnet; null when someone holds it.</summary>
    Task<Lease?> CreateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, CancellationToken ct);

    /// <summary>Writes the lease with a fresh etcd lease of <paramref name="ttl"/>, whatever is there.</summary>
    Task<Lease> UpdateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, long previousEtcdLease, CancellationToken ct);

    Task DeleteLeaseAsync(SubnetKey key, CancellationToken ct);

    /// <summary>When an etcd lease runs out (now - 1 s for a key without lease, as flannel computes it).</summary>
    Task<DateTimeOffset> GetExpirationAsync(long etcdLeaseId, CancellationToken ct);

    /// <summary>
    /// Streams lease changes after <paramref name="afterRevision"/>. Ends (or throws) when the stream breaks;
    /// throws <see cref="WatchCompactedException"/> when that revision is compacted away.
    /// </summary>
    IAsyncEnumerable<WatchBatch> WatchLeasesAsync(long afterRevision, CancellationToken ct);

    /// <summary>
    /// The config flanneld up to v0.17 left in etcd's v2 keyspace at the same key, for a hint while the v3 config is
    /// missing; null when there is none or the v2 API cannot be read.
    /// </summary>
    Task<string?> FindV2ConfigAsync(CancellationToken ct) => Task.FromResult<string?>(null);
}
