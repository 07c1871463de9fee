using Flannel.Daemon.Health;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Rules;

/// <summary>
/// Keeps the masquerade and forward rules of our lease in place: applied before READY, then checked every
/// --iptables-resync seconds and applied again when anything differs (a rule deleted, added or reordered by someone),
/// as flanneld does. Rules stay when the daemon stops, like flanneld's.
/// </summary>
public sealed class TrafficRules
{
    private readonly IPacketFilter _filter;
    private readonly TimeSpan _resync;
    private readonly bool _masquerade;
    private readonly bool _forward;
    private readonly bool _randomFully;
    private readonly LoopHealthRegistry? _health;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private RulePolicy? _policy;
    private string? _applied;

    public TrafficRules(IPacketFilter filter, TimeSpan resync, bool masquerade, bool forward, bool randomFully, ILogger log,
        LoopHealthRegistry? health = null)
    {
        _filter = filter;
        _resync = resync;
        _masquerade = masquerade;
        _forward = forward;
        _randomFully = randomFully;
        _log = log;
        _health = health;
    }

    public bool Enabled => _masquerade || _forward;

    /// <summary>
    /// Starts on the thread pool what can be done before the lease is known, so that it overlaps the etcd round trips:
    /// without --ip-masq the rules do not depend on our subnet and are applied whole; with it the packet filter's
    /// current state is read. Never fails: <see cref="Apply"/> does the work again and reports the problem.
    /// </summary>
    public Task PrepareAsync(Ip4Network network) => !Enabled ? Task.CompletedTask : Task.Run(() =>
    {
        try
        {
            if (_masquerade)
            {
                lock (_lock)
                {
                    _filter.Prepare();
                }
            }
            else
            {
                ApplyPolicy(new RulePolicy(network, network, Masquerade: false, _forward, _randomFully));
            }
        }
        catch (RulesException)
        {
        }
    });

    /// <summary>Applies the rules for <paramref name="network"/> and our <paramref name="subnet"/>.</summary>
    /// <exception cref="RulesException">The host refused them.</exception>
    public void Apply(Ip4Network network, Ip4Network subnet)
    {
        if (!Enabled)
        {
            return;
        }
        bool done;
        lock (_lock)
        {
            // The forward rules name only the network: applied early by PrepareAsync, or before a re-acquired lease.
            done = !_masquerade && _policy is { } p && p.Network == network;
        }
        if (!done)
        {
            ApplyPolicy(new RulePolicy(network, subnet, _masquerade, _forward, _randomFully));
        }
        RulesLog.Applied(_log, _filter.Name, network.ToString(), subnet.ToString(), _masquerade, _forward);
    }

    private void ApplyPolicy(RulePolicy policy)
    {
        lock (_lock)
        {
            _filter.Apply(policy);
            _policy = policy;
            _applied = null;
        }
        // The snapshot later checks compare against is read off the startup path (one more process run, ~7 ms with
        // iptables-nft); a check that finds none yet takes it then.
        ThreadPool.UnsafeQueueUserWorkItem(static self => self.TakeBaseline(), this, preferLocal: false);
    }

    private void TakeBaseline()
    {
        try
        {
            lock (_lock)
            {
                if (_policy is not null && _applied is null)
                {
                    _applied = _filter.Snapshot(_policy);
                }
            }
        }
        catch (RulesException e)
        {
            RulesLog.Failed(_log, _filter.Name, e.Message);
        }
    }

    /// <summary>
    /// Removes what the other mode (iptables vs nftables) left, as flannel HEAD does at start. Run by
    /// <see cref="RunAsync"/> after READY: the other mode's table or chains do not touch ours, and each removal costs
    /// process runs that would otherwise delay subnet.env.
    /// </summary>
    public void RemoveOtherMode()
    {
        lock (_lock)
        {
            _filter.RemoveOther();
        }
    }

    /// <summary>Checks the rules once; true when they had to be applied again.</summary>
    public bool Check()
    {
        lock (_lock)
        {
            if (_policy is null)
            {
                return false;
            }
            string now = _filter.Snapshot(_policy);
            if (_applied is null)
            {
                _applied = now;
                return false;
            }
            if (now == _applied)
            {
                return false;
            }
            _filter.Apply(_policy);
            _applied = _filter.Snapshot(_policy);
        }
        RulesLog.Restored(_log, _filter.Name);
        return true;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        if (!Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(_resync);
        try
        {
            await Task.Yield();
            RemoveOtherMode();
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    Check();
                }
                catch (RulesException e)
                {
                    RulesLog.Failed(_log, _filter.Name, e.Message);
                }
                _health?.Report("iptables", _resync * 3 + TimeSpan.FromSeconds(30));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}

internal static partial class RulesLog
{
    [LoggerMessage(3100, LogLevel.Information, "{Filter}: rules for network {Network}, subnet {Subnet} in place (masquerade {Masquerade}, forward {Forward})")]
    public static partial void Applied(ILogger log, string filter, string network, string subnet, bool masquerade, bool forward);

    [LoggerMessage(3101, LogLevel.Warning, "{Filter}: our rules had been changed by someone else; applied them again")]
    public static partial void Restored(ILogger log, string filter);

    [LoggerMessage(3102, LogLevel.Error, "{Filter}: checking the rules failed, retrying: {Reason}")]
    public static partial void Failed(ILogger log, string filter, string reason);
}
