using Etcdserverpb;
using Flannel.Subnet.Etcd;
using Lease = Flannel.Subnet.Leases.Lease;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Reads the config and every lease, each with its etcd lease's remaining TTL (read-only).</summary>
internal static class EtcdStatusReader
{
    /// <summary>The raw config JSON (null when the key is absent) and the leases that decode.</summary>
    /// <exception cref="Grpc.Core.RpcException">etcd refused or could not be reached.</exception>
    public static async Task<(string? Config, IReadOnlyList<LeaseWithTtl> Leases)> ReadAsync(EtcdConnection etcd, EtcdSubnetRegistry registry, CancellationToken ct)
    {
        string? config = await registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
        if (config is null)
        {
            return (null, []);
        }
        var snapshot = await registry.GetLeasesAsync(ct).ConfigureAwait(false);
        var ttls = await Task.WhenAll(snapshot.Leases.Select(l => RemainingAsync(etcd, l, ct))).ConfigureAwait(false);
        return (config, snapshot.Leases.Zip(ttls, (l, t) => new LeaseWithTtl(l, t)).ToList());
    }

    private static async Task<TimeSpan?> RemainingAsync(EtcdConnection etcd, Lease lease, CancellationToken ct)
    {
        if (lease.EtcdLeaseId == 0)
        {
            return null; // a reservation: the key has no lease and never expires
        }
        var resp = await etcd.CallAsync(h => etcd.Client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.EtcdLeaseId }, h, cancellationToken: ct), ct)
            .ConfigureAwait(false);
        return TimeSpan.FromSeconds(resp.TTL); // -1 when etcd no longer knows the lease
    }
}
