using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Acquisition (compat §1.5): ours by PublicIP if compatible, else the previous subnet if free, else a random free one;
/// created atomically; a lost race is retried. The caller holds the lock of <see cref="LeaseState"/>.
/// </summary>
internal sealed class LeaseAcquirer
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;

    public LeaseAcquirer(ISubnetRegistry registry, LeaseManagerOptions options, ILogger log)
    {
        _registry = registry;
        _options = options;
        _log = log;
    }

    public async Task<Lease> AcquireAsync(NetworkConfig config, LeaseAttrs attrs, SubnetKey? previous, CancellationToken ct)
    {
        for (int attempt = 1; attempt <= _options.RaceRetries; attempt++)
        {
            var snapshot = await _registry.GetLeasesAsync(ct).ConfigureAwait(false);
            var taken = snapshot.Leases.Select(l => l.Key).ToList();

            var mine = snapshot.Leases.FirstOrDefault(l => l.Attrs.PublicIP == attrs.PublicIP);
            if (mine is not null)
            {
                if (config.IsCompatible(mine.Key))
                {
                    SubnetLog.ReusingLease(_log, mine.Key.ToString(), attrs.PublicIP.ToString());
                    return await _registry.UpdateLeaseAsync(mine.Key, attrs, _options.LeaseTtl, mine.EtcdLeaseId, ct).ConfigureAwait(false);
                }
                SubnetLog.DeletingIncompatibleLease(_log, mine.Key.ToString(), attrs.PublicIP.ToString());
                await _registry.DeleteLeaseAsync(mine.Key, ct).ConfigureAwait(false);
                taken.Remove(mine.Key);
            }

            SubnetKey? choice = null;
            if (previous is { } prev)
            {
                var (ask, state) = Previous(prev, taken, config);
                SubnetLog.PreviousSubnet(_log, prev.ToString(), state);
                choice = ask ? prev : null;
            }
            choice ??= SubnetAllocator.Allocate(config, taken, _options.Random)
                ?? throw new LeaseAcquisitionException(
                    $"out of subnets: every /{config.SubnetLen} between {config.SubnetMin} and {config.SubnetMax} is leased ({snapshot.Leases.Count} leases in etcd)");

            var created = await _registry.CreateLeaseAsync(choice.Value, attrs, _options.LeaseTtl, ct).ConfigureAwait(false);
            if (created is not null)
            {
                return created;
            }
            SubnetLog.LostRace(_log, choice.Value.ToString(), attempt, _options.RaceRetries);
            previous = null; // someone took it; choose afresh
        }
        throw new LeaseAcquisitionException($"failed to acquire a lease: lost the race for a free subnet {_options.RaceRetries} times");
    }

    /// <summary>Whether the previous subnet (from the subnet file) is asked for, and its state in the operator's words.</summary>
    internal static (bool Ask, string State) Previous(SubnetKey previous, IReadOnlyList<SubnetKey> taken, NetworkConfig config)
    {
        if (taken.Any(k => k.Subnet.Overlaps(previous.Subnet)))
        {
            return (false, "held by another host");
        }
        return config.IsCompatible(previous) ? (true, "free, asking for it") : (false, "not compatible with the network config");
    }
}
