using System.Diagnostics;
using System.Threading.Channels;
using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// This host's lease: read the config, acquire (compat §1.5), renew before expiry and watch our own key, taking the
/// subnet back when it disappears (flanneld would exit instead; compat §1.4).
/// </summary>
public sealed class LeaseManager : IDisposable
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger<LeaseManager> _log;
    private readonly string _configKey;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Channel<Lease> _changes = Channel.CreateUnbounded<Lease>(new UnboundedChannelOptions { SingleReader = true });
    private Lease? _current;
    private NetworkConfig? _config;
    private LeaseAttrs? _attrs;
    private string? _configJson;
    private readonly OncePerRevision _rejected = new();

    public LeaseManager(ISubnetRegistry registry, LeaseManagerOptions options, ILogger<LeaseManager> log, string configKey = "/coreos.com/network/config")
    {
        _registry = registry;
        _options = options;
        _log = log;
        _configKey = configKey;
    }

    /// <summary>The lease held now (null before <see cref="AcquireAsync"/>).</summary>
    public Lease? Current => Volatile.Read(ref _current);

    /// <summary>Each lease re-acquired after ours disappeared (the subnet may differ).</summary>
    public ChannelReader<Lease> Reacquired => _changes.Reader;

    /// <summary>Reads and validates the config, retrying every second while it is missing, invalid or unreachable.</summary>
    public async Task<NetworkConfig> WaitForConfigAsync(CancellationToken ct)
    {
        string? lastProblem = null;
        long lastLoggedMs = 0;
        while (true)
        {
            // A problem is logged when it first appears, when its text changes, and again every 30 s while it lasts,
            // so an operator tailing the journal sees why the daemon is still waiting without one line per second.
            string problem;
            bool log(string p) => p != lastProblem || Environment.TickCount64 - lastLoggedMs >= (long)_options.ConfigProblemLogRepeat.TotalMilliseconds;
            try
            {
                string? json = await _registry.GetNetworkConfigAsync(ct).ConfigureAwait(false);
                if (json is null)
                {
                    problem = "missing";
                    if (log(problem))
                    {
                        SubnetLog.ConfigMissing(_log, _configKey);
                        if (await _registry.FindV2ConfigAsync(ct).ConfigureAwait(false) is { } v2)
                        {
                            SubnetLog.ConfigOnlyInV2(_log, _configKey, v2);
                        }
                        lastLoggedMs = Environment.TickCount64;
                    }
                }
                else
                {
                    var config = NetworkConfigParser.Parse(json);
                    foreach (var w in config.Warnings)
                    {
                        SubnetLog.ConfigWarning(_log, w);
                    }
                    _configJson = json;
                    return config;
                }
            }
            catch (NetworkConfigException e)
            {
                problem = e.Message;
                if (log(problem))
                {
                    SubnetLog.ConfigInvalid(_log, _configKey, e.Message);
                    lastLoggedMs = Environment.TickCount64;
                }
            }
            catch (EtcdException e)
            {
                // Refused credentials are waited out too, as flanneld does: the operator fixes them while we wait.
                problem = e.Message;
                if (log(problem))
                {
                    SubnetLog.ConfigUnreachable(_log, problem);
                    lastLoggedMs = Environment.TickCount64;
                }
            }
            lastProblem = problem;
            await Task.Delay(_options.ConfigRetry, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Acquires a lease: ours by PublicIP if compatible, else the previous subnet if free, else a random free one;
    /// created atomically; a lost race is retried.
    /// </summary>
    public async Task<Lease> AcquireAsync(NetworkConfig config, LeaseAttrs attrs, PreviousSubnets previous, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _config = config;
            _attrs = attrs;
            var lease = await AcquireLockedAsync(config, attrs, PreviousKey(previous), ct).ConfigureAwait(false);
            Volatile.Write(ref _current, lease);
            SubnetLog.Acquired(_log, lease.Key.ToString(), attrs.PublicIP.ToString(), attrs.BackendType ?? "udp", sw.ElapsedMilliseconds);
            return lease;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static SubnetKey? PreviousKey(PreviousSubnets previous) =>
        previous.Subnet is { } sn ? new SubnetKey(sn, previous.Ipv6Subnet) : null;

    private async Task<Lease> AcquireLockedAsync(NetworkConfig config, LeaseAttrs attrs, SubnetKey? previous, CancellationToken ct)
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
                bool held = taken.Any(k => k.Subnet.Overlaps(prev.Subnet));
                bool compatible = config.IsCompatible(prev);
                SubnetLog.PreviousSubnet(_log, prev.ToString(), held ? "held by another host" : compatible ? "free, asking for it" : "not compatible with the network config");
                if (!held && compatible)
                {
                    choice = prev;
                }
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

    /// <summary>Keeps the lease: renews before expiry and re-acquires when our key disappears. Runs until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Current is null)
        {
            throw new InvalidOperationException("acquire a lease before running the lease manager");
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = new LeaseWatchLoop(_registry, _log, _options.Watch with { Health = _options.Health, HealthName = "own-lease-watch" });
        var watching = watch.RunAsync(k => Current is { } c && c.Key == k, OnOwnLeaseEventsAsync, linked.Token);
        try
        {
            await RenewLoopAsync(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Watches the other hosts' leases until cancelled: a snapshot first (as added events), then every change.
    /// Our own lease is never reported, whichever subnet we hold at the time.
    /// </summary>
    public Task WatchPeersAsync(Func<IReadOnlyList<LeaseEvent>, CancellationToken, Task> onEvents, CancellationToken ct)
    {
        // The peers handed to the backend: a lease that fails validation is never programmed, and one that turns bad
        // is removed. A rejection is logged once per key and revision.
        var accepted = new Dictionary<SubnetKey, Lease>();
        return new LeaseWatchLoop(_registry, _log, _options.Watch with { Health = _options.Health, HealthName = "peer-watch" }).RunAsync(
            k => Current is not { } own || own.Key != k,
            async (events, token) =>
            {
                var passed = new List<LeaseEvent>(events.Count);
                foreach (var e in events)
                {
                    var key = e.Lease.Key;
                    if (e.Kind == LeaseEventKind.Added)
                    {
                        if (PeerProblem(e.Lease, accepted) is { } problem)
                        {
                            if (_rejected.FirstTime(key.ToString(), e.Lease.ModRevision))
                            {
                                LeaseLog.PeerRejected(_log, key.ToString(), e.Lease.ModRevision, problem);
                            }
                            if (accepted.Remove(key, out var was))
                            {
                                SubnetLog.PeerRemoved(_log, key.ToString(), was.Attrs.PublicIP.ToString());
                                passed.Add(new LeaseEvent(LeaseEventKind.Removed, was));
                            }
                            continue;
                        }
                        accepted[key] = e.Lease;
                        SubnetLog.PeerAdded(_log, key.ToString(), e.Lease.Attrs.PublicIP.ToString(), e.Lease.Attrs.BackendType ?? "udp");
                        passed.Add(e);
                    }
                    else if (accepted.Remove(key, out var was))
                    {
                        SubnetLog.PeerRemoved(_log, key.ToString(), was.Attrs.PublicIP.ToString());
                        passed.Add(new LeaseEvent(LeaseEventKind.Removed, was));
                    }
                }
                SubnetMetrics.PeerLeases(accepted.Count);
                if (passed.Count > 0 || events.Count == 0) // an empty batch is the first listing: pass it on
                {
                    await onEvents(passed, token).ConfigureAwait(false);
                }
            },
            ct);
    }

    /// <summary>Why a peer lease must not be programmed, or null when it may: a subnet this network cannot have
    /// handed out, one overlapping ours or an accepted peer's, or our own public IP.</summary>
    private string? PeerProblem(Lease lease, Dictionary<SubnetKey, Lease> accepted)
    {
        var config = _config;
        var key = lease.Key;
        if (config is not null && config.EnableIPv4)
        {
            var sn = key.Subnet;
            if (!config.Network.Contains(sn))
            {
                return $"subnet {sn} is outside the network {config.Network}";
            }
            if (sn.PrefixLength != config.SubnetLen)
            {
                return $"subnet {sn} is a /{sn.PrefixLength}, the network's subnets are /{config.SubnetLen}";
            }
        }
        if (lease.Attrs.PublicIP == default)
        {
            return "it has no PublicIP";
        }
        if (_attrs is { } mine && lease.Attrs.PublicIP == mine.PublicIP)
        {
            return $"its PublicIP {lease.Attrs.PublicIP} is this host's own";
        }
        if (_attrs is { } ours && !string.Equals(lease.Attrs.BackendType ?? "udp", ours.BackendType ?? "udp", StringComparison.OrdinalIgnoreCase))
        {
            return $"backend type {lease.Attrs.BackendType ?? "udp"}, this host runs {ours.BackendType ?? "udp"}";
        }
        if (Current is { } own && own.Key != key && own.Key.Subnet.Overlaps(key.Subnet))
        {
            return $"subnet {key.Subnet} overlaps this host's {own.Key.Subnet}";
        }
        foreach (var other in accepted.Keys)
        {
            if (other != key && other.Subnet.Overlaps(key.Subnet))
            {
                return $"subnet {key.Subnet} overlaps peer {other.Subnet}";
            }
        }
        return null;
    }

    /// <summary>
    /// Reads the config every <see cref="LeaseManagerOptions.ConfigPoll"/> and reports a change: an invalid config, one
    /// that needs a restart (flanneld cannot change its network live), or one that matches the running config. The
    /// running config is always kept. Runs until cancelled.
    /// </summary>
    public async Task WatchConfigAsync(NetworkConfig running, CancellationToken ct)
    {
        string? last = _configJson;
        while (!ct.IsCancellationRequested)
        {
            string? json;
            try
            {
                await Task.Delay(_options.ConfigPoll, ct).ConfigureAwait(false);
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
            var changes = ConfigChanges(running, next);
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

    private static List<string> ConfigChanges(NetworkConfig a, NetworkConfig b)
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

    private async Task RenewLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var lease = Current!;
            TimeSpan wait;
            try
            {
                var expiration = lease.Expiration ?? await _registry.GetExpirationAsync(lease.EtcdLeaseId, ct).ConfigureAwait(false);
                wait = expiration - _options.RenewMargin - DateTimeOffset.UtcNow;
                // Healthy until the renewal is due, plus one retry: a renewal that keeps failing turns /healthz red.
                _options.Health.Report("lease-renewal", Max(wait, TimeSpan.Zero) + _options.RenewRetry + TimeSpan.FromMinutes(1));
            }
            catch (EtcdException)
            {
                wait = _options.RenewRetry;
            }
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }
                if (await RenewWithQuickRetriesAsync(ct).ConfigureAwait(false) is { } failure)
                {
                    SubnetLog.RenewFailed(_log, lease.Key.ToString(), failure, _options.RenewRetry.TotalSeconds);
                    SubnetMetrics.Renewed(ok: false);
                    await Task.Delay(_options.RenewRetry, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// One renewal, each attempt bounded by <see cref="LeaseManagerOptions.RenewAttemptTimeout"/>, retried after the
    /// <see cref="LeaseManagerOptions.RenewQuickRetries"/> waits. Null when renewed, else why the last attempt failed.
    /// </summary>
    private async Task<string?> RenewWithQuickRetriesAsync(CancellationToken ct)
    {
        var quick = _options.RenewQuickRetries;
        for (int attempt = 0; ; attempt++)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(_options.RenewAttemptTimeout);
            string reason;
            try
            {
                await RenewAsync(bounded.Token).ConfigureAwait(false);
                return null;
            }
            // Any etcd failure gets the quick retries (an operator may fix a refusal in time too), and so does our
            // bound running out.
            catch (Exception e) when (!ct.IsCancellationRequested && (e is EtcdException || e is OperationCanceledException && bounded.IsCancellationRequested))
            {
                reason = bounded.IsCancellationRequested
                    ? $"no answer from etcd within {_options.RenewAttemptTimeout.TotalSeconds} s"
                    : e.Message;
            }
            if (attempt >= quick.Count)
            {
                return reason;
            }
            SubnetLog.RenewAttemptFailed(_log, Current!.Key.ToString(), reason, attempt + 1, quick[attempt].TotalSeconds);
            await Task.Delay(quick[attempt], ct).ConfigureAwait(false);
        }
    }

    /// <summary>Renews now (a new etcd lease of the full TTL on the same key).</summary>
    public async Task RenewAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var lease = Current!;
            var renewed = await _registry.UpdateLeaseAsync(lease.Key, _attrs!, _options.LeaseTtl, lease.EtcdLeaseId, ct).ConfigureAwait(false);
            Volatile.Write(ref _current, renewed);
            SubnetLog.Renewed(_log, renewed.Key.ToString(), renewed.Expiration ?? DateTimeOffset.UtcNow + _options.LeaseTtl);
            SubnetMetrics.Renewed(ok: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Publishes new attrs on our lease, same subnet (the external interface's address changed, so the PublicIP did):
    /// the peers follow with their watches. Later renewals and re-acquisitions publish these attrs too.
    /// </summary>
    public async Task UpdateAttrsAsync(LeaseAttrs attrs, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var lease = Current ?? throw new InvalidOperationException("acquire a lease before updating it");
            var previous = _attrs;
            _attrs = attrs;
            var updated = await _registry.UpdateLeaseAsync(lease.Key, attrs, _options.LeaseTtl, lease.EtcdLeaseId, ct).ConfigureAwait(false);
            Volatile.Write(ref _current, updated);
            SubnetLog.AttrsUpdated(_log, updated.Key.ToString(), previous?.PublicIP.ToString() ?? "none", attrs.PublicIP.ToString());
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task OnOwnLeaseEventsAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        if (!events.Any(e => e.Kind == LeaseEventKind.Removed))
        {
            return;
        }
        var lost = events.Last(e => e.Kind == LeaseEventKind.Removed).Lease;
        SubnetLog.LeaseLost(_log, lost.Key.ToString());
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ReacquireAsync(lost.Key, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is EtcdException or LeaseAcquisitionException)
            {
                SubnetLog.ReacquireFailed(_log, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task ReacquireAsync(SubnetKey lostKey, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Prefer the very same subnet: containers keep their addresses and peers' routes stay valid.
            var lease = await _registry.CreateLeaseAsync(lostKey, _attrs!, _options.LeaseTtl, ct).ConfigureAwait(false)
                        ?? await AcquireLockedAsync(_config!, _attrs!, lostKey, ct).ConfigureAwait(false);
            Volatile.Write(ref _current, lease);
            SubnetLog.Reacquired(_log, lease.Key.ToString(), lostKey.ToString(),
                lease.Key == lostKey ? "" : "; the subnet CHANGED: containers on this host need new addresses");
            SubnetMetrics.Reacquired();
            _changes.Writer.TryWrite(lease);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
