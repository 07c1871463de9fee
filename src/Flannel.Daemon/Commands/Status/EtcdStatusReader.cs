using Flannel.Subnet.Etcd;
using Lease = Flannel.Subnet.Leases.Lease;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Reads the config and every lease, each with its etcd lease's remaining TTL (read-only).</summary>
internal static class EtcdStatusReader
{
    /// <summary>The raw config JSON (null when the key is absent) and the leases that decode.</summary>
    /// <exception cref="EtcdException">etcd refused or could not be reached.</exception>
    public static async Task<(string? Config, IReadOnlyList<LeaseWithTtl> Leases)> ReadAsync(EtcdSubnetRegistry registry, CancellationToken ct)
    {
        string? config = await registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
        if (config is null)
        {
            return (null, []);
        }
        var snapshot = await registry.GetLeasesAsync(ct).ConfigureAwait(false);
        var ttls = await Task.WhenAll(snapshot.Leases.Select(l => RemainingAsync(registry, l, ct))).ConfigureAwait(false);
        return (config, snapshot.Leases.Zip(ttls, (l, t) => new LeaseWithTtl(l, t)).ToList());
    }

    private static async Task<TimeSpan?> RemainingAsync(EtcdSubnetRegistry registry, Lease lease, CancellationToken ct)
    {
        if (lease.EtcdLeaseId == 0)
        {
            return null; // a reservation: the key has no lease and never expires
        }
        return await registry.GetRemainingAsync(lease.EtcdLeaseId, ct).ConfigureAwait(false); // -1 s when etcd no longer knows the lease
    }
}
