using System.Threading.Channels;
using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// This host's lease: read the config, acquire (compat §1.5), renew before expiry and watch our own key, taking the
/// subnet back when it disappears (flanneld would exit instead; compat §1.4). Composes one part per job
/// (<see cref="ConfigWaiter"/>, <see cref="ConfigWatcher"/>, <see cref="LeaseAcquirer"/>, <see cref="LeaseRenewer"/>,
/// <see cref="OwnLeaseGuard"/>, <see cref="PeerWatch"/>) around the state they share.
/// </summary>
public sealed class LeaseManager : IDisposable
{
    private readonly LeaseState _state = new();
    private readonly Channel<Lease> _reacquired = Channel.CreateUnbounded<Lease>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConfigWaiter _configWaiter;
    private readonly ConfigWatcher _configWatcher;
    private readonly LeaseAcquirer _acquirer;
    private readonly LeaseRenewer _renewer;
    private readonly OwnLeaseGuard _guard;
    private readonly PeerWatch _peers;
    private string? _configJson;

    public LeaseManager(ISubnetRegistry registry, LeaseManagerOptions options, ILogger<LeaseManager> log, string configKey = "/coreos.com/network/config")
    {
        // Every part logs as the lease manager: operators filter the journal on that category and on the event ids.
        _log = log;
        _time = options.TimeProvider;
        _configWaiter = new ConfigWaiter(registry, options, log, configKey);
        _configWatcher = new ConfigWatcher(registry, options, log, configKey);
        _acquirer = new LeaseAcquirer(registry, options, log);
        _renewer = new LeaseRenewer(registry, _state, options, log);
        _guard = new OwnLeaseGuard(registry, _state, _acquirer, options, log, _reacquired.Writer);
        _peers = new PeerWatch(registry, _state, options, log);
    }

    /// <summary>The lease held now (null before <see cref="AcquireAsync"/>).</summary>
    public Lease? Current => _state.Current;

    /// <summary>Each lease re-acquired after ours disappeared (the subnet may differ).</summary>
    public ChannelReader<Lease> Reacquired => _reacquired.Reader;

    /// <summary>Reads and validates the config, retrying every second while it is missing, invalid or unreachable.</summary>
    public async Task<NetworkConfig> WaitForConfigAsync(CancellationToken ct)
    {
        var (config, json) = await _configWaiter.WaitAsync(ct).ConfigureAwait(false);
        _configJson = json;
        return config;
    }

    /// <summary>
    /// Acquires a lease: ours by PublicIP if compatible, else the previous subnet if free, else a random free one;
    /// created atomically; a lost race is retried.
    /// </summary>
    public Task<Lease> AcquireAsync(NetworkConfig config, LeaseAttrs attrs, PreviousSubnets previous, CancellationToken ct)
    {
        long started = _time.GetTimestamp();
        return _state.WriteAsync(async () =>
        {
            _state.Config = config;
            _state.Attrs = attrs;
            var lease = await _acquirer.AcquireAsync(config, attrs, PreviousKey(previous), ct).ConfigureAwait(false);
            _state.Current = lease;
            SubnetLog.Acquired(_log, lease.Key.ToString(), attrs.PublicIP.ToString(), attrs.BackendType ?? "udp", (long)_time.GetElapsedTime(started).TotalMilliseconds);
            return lease;
        }, ct);
    }

    private static SubnetKey? PreviousKey(PreviousSubnets previous) =>
        previous.Subnet is { } sn ? new SubnetKey(sn, previous.Ipv6Subnet) : null;

    /// <summary>Keeps the lease: renews before expiry and re-acquires when our key disappears. Runs until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Current is null)
        {
            throw new InvalidOperationException("acquire a lease before running the lease manager");
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var guarding = _guard.RunAsync(linked.Token);
        try
        {
            await _renewer.RunAsync(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await guarding.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Watches the other hosts' leases until cancelled: a snapshot first (as added events), then every change.
    /// Our own lease is never reported, whichever subnet we hold at the time.
    /// </summary>
    public Task WatchPeersAsync(Func<IReadOnlyList<LeaseEvent>, CancellationToken, Task> onEvents, CancellationToken ct) =>
        _peers.RunAsync(onEvents, ct);

    /// <summary>
    /// Reads the config every <see cref="LeaseManagerOptions.ConfigPoll"/> and reports a change: an invalid config, one
    /// that needs a restart (flanneld cannot change its network live), or one that matches the running config. The
    /// running config is always kept. Runs until cancelled.
    /// </summary>
    public Task WatchConfigAsync(NetworkConfig running, CancellationToken ct) => _configWatcher.RunAsync(running, _configJson, ct);

    /// <summary>Renews now (a new etcd lease of the full TTL on the same key).</summary>
    public Task RenewAsync(CancellationToken ct) => _renewer.RenewAsync(ct);

    /// <summary>
    /// Publishes new attrs on our lease, same subnet (the external interface's address changed, so the PublicIP did):
    /// the peers follow with their watches. Later renewals and re-acquisitions publish these attrs too.
    /// </summary>
    public Task UpdateAttrsAsync(LeaseAttrs attrs, CancellationToken ct) => _renewer.UpdateAttrsAsync(attrs, ct);

    public void Dispose() => _state.Dispose();
}
