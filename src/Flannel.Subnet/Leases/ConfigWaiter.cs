using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Waits for a valid network config at the start: reads it every <see cref="LeaseManagerOptions.ConfigRetry"/> while
/// it is missing, invalid or unreachable, saying why.
/// </summary>
internal sealed class ConfigWaiter
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;
    private readonly string _configKey;
    private readonly TimeProvider _time;

    public ConfigWaiter(ISubnetRegistry registry, LeaseManagerOptions options, ILogger log, string configKey)
    {
        _registry = registry;
        _options = options;
        _log = log;
        _configKey = configKey;
        _time = options.TimeProvider;
    }

    /// <summary>The parsed config and its JSON as stored, once there is a valid one.</summary>
    public async Task<(NetworkConfig Config, string Json)> WaitAsync(CancellationToken ct)
    {
        string? lastProblem = null;
        long? lastLogged = null;
        while (true)
        {
            string problem;
            bool log(string p) => ShouldLog(p, lastProblem,
                lastLogged is { } at ? _time.GetElapsedTime(at) : null, _options.ConfigProblemLogRepeat);
            try
            {
                string? json = await _registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
                if (json is not null)
                {
                    var config = NetworkConfigParser.Parse(json);
                    foreach (var w in config.Warnings)
                    {
                        SubnetLog.ConfigWarning(_log, w);
                    }
                    return (config, json);
                }
                problem = "missing";
                if (log(problem))
                {
                    SubnetLog.ConfigMissing(_log, _configKey);
                    if (await _registry.FindV2ConfigAsync(ct).ConfigureAwait(false) is { } v2)
                    {
                        SubnetLog.ConfigOnlyInV2(_log, _configKey, v2);
                    }
                    lastLogged = _time.GetTimestamp();
                }
            }
            catch (NetworkConfigException e)
            {
                problem = e.Message;
                if (log(problem))
                {
                    SubnetLog.ConfigInvalid(_log, _configKey, e.Message);
                    lastLogged = _time.GetTimestamp();
                }
            }
            catch (EtcdException e)
            {
                // Refused credentials are waited out too, as flanneld does: the operator fixes them while we wait.
                problem = e.Message;
                if (log(problem))
                {
                    SubnetLog.ConfigUnreachable(_log, problem);
                    lastLogged = _time.GetTimestamp();
                }
            }
            lastProblem = problem;
            await Task.Delay(_options.ConfigRetry, _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether a problem is logged now: when it first appears, when its text changes, and again every
    /// <paramref name="repeat"/> while it lasts, so an operator tailing the journal sees why the daemon is still waiting
    /// without one line per retry. <paramref name="sinceLogged"/> is null before the first line.
    /// </summary>
    internal static bool ShouldLog(string problem, string? lastProblem, TimeSpan? sinceLogged, TimeSpan repeat) =>
        problem != lastProblem || sinceLogged is not { } since || since >= repeat;
}
