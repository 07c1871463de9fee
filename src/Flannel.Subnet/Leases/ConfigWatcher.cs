using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Reads the config every <see cref="LeaseManagerOptions.ConfigPoll"/> while the daemon runs and reports a change: an
/// invalid config, one that needs a restart (flanneld cannot change its network live), or one that matches the running
/// config. The running config is always kept.
/// </summary>
internal sealed class ConfigWatcher
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;
    private readonly string _configKey;
    private readonly TimeProvider _time;

    public ConfigWatcher(ISubnetRegistry registry, LeaseManagerOptions options, ILogger log, string configKey)
    {
        _registry = registry;
        _options = options;
        _log = log;
        _configKey = configKey;
        _time = options.TimeProvider;
    }

    /// <summary>Runs until cancelled; <paramref name="runningJson"/> is the JSON <paramref name="running"/> was parsed from.</summary>
    public async Task RunAsync(NetworkConfig running, string? runningJson, CancellationToken ct)
    {
        string? last = runningJson;
        while (!ct.IsCancellationRequested)
        {
            string? json;
            try
            {
                await Task.Delay(_options.ConfigPoll, _time, ct).ConfigureAwait(false);
                json = await _registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (EtcdException)
            {
                continue; // etcd trouble is reported by the lease loops
            }
            if (json == last)
            {
                continue;
            }
            last = json;
            if (json is null)
            {
                LeaseLog.ConfigDeleted(_log, _configKey);
                continue;
            }
            NetworkConfig next;
            try
            {
                next = NetworkConfigParser.Parse(json);
            }
            catch (NetworkConfigException e)
            {
                LeaseLog.ConfigChangeInvalid(_log, _configKey, e.Message);
                continue;
            }
            var changes = Changes(running, next);
            if (changes.Count == 0)
            {
                LeaseLog.ConfigChangeMatches(_log, _configKey);
            }
            else
            {
                LeaseLog.ConfigChangeNeedsRestart(_log, _configKey, string.Join(", ", changes));
            }
        }
    }

    /// <summary>What differs between two configs, as "Name old -> new", in a fixed order.</summary>
    internal static List<string> Changes(NetworkConfig a, NetworkConfig b)
    {
        var changes = new List<string>();
        void Check<T>(string name, T x, T y)
        {
            if (!EqualityComparer<T>.Default.Equals(x, y))
            {
                changes.Add($"{name} {x} -> {y}");
            }
        }
        Check("Network", a.Network, b.Network);
        Check("SubnetLen", a.SubnetLen, b.SubnetLen);
        Check("SubnetMin", a.SubnetMin, b.SubnetMin);
        Check("SubnetMax", a.SubnetMax, b.SubnetMax);
        Check("EnableIPv4", a.EnableIPv4, b.EnableIPv4);
        Check("EnableIPv6", a.EnableIPv6, b.EnableIPv6);
        Check("IPv6Network", a.IPv6Network, b.IPv6Network);
        Check("IPv6SubnetLen", a.IPv6SubnetLen, b.IPv6SubnetLen);
        Check("IPv6SubnetMin", a.IPv6SubnetMin, b.IPv6SubnetMin);
        Check("IPv6SubnetMax", a.IPv6SubnetMax, b.IPv6SubnetMax);
        Check("EnableNFTables", a.EnableNFTables, b.EnableNFTables);
        Check("Backend", a.BackendJson, b.BackendJson);
        return changes;
    }
}
