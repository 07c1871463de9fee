using Flannel.Daemon.Health;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Rules;

/// <summary>
/// Keeps the masquerade and forward rules of our lease of one family in place (a dual-stack network has one of these
/// for IPv4 and one for IPv6, each with its filter), as flanneld v0.28.9 does: applied before READY
/// (removing those of the previous lease, whose network and subnet the previous subnet.env names, and of this daemon's
/// earlier layout), then checked every --iptables-resync seconds and applied again when one is missing. Rules of other
/// networks in the same chains are never touched, so daemons for several networks (ours or flanneld) share a host.
/// Rules stay when the daemon stops, like flanneld's.
/// </summary>
internal sealed class TrafficRules
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
    private IpNetwork? _previousNetwork;
    private IpNetwork? _previousSubnet;

    /// <param name="previousNetwork">FLANNEL_NETWORK of the previous run's subnet file, if any.</param>
    /// <param name="previousSubnet">FLANNEL_SUBNET of the previous run's subnet file, if any.</param>
    public TrafficRules(IPacketFilter filter, TimeSpan resync, bool masquerade, bool forward, bool randomFully, ILogger log,
        LoopHealthRegistry? health = null, IpNetwork? previousNetwork = null, IpNetwork? previousSubnet = null)
    {
        _filter = filter;
        _resync = resync;
        _masquerade = masquerade;
        _forward = forward;
        _randomFully = randomFully;
        _log = log;
        _health = health;
        _previousNetwork = previousNetwork;
        _previousSubnet = previousSubnet;
    }

    public bool Enabled => _masquerade || _forward;

    /// <summary>The resync loop's name in the health report: "iptables", or "ip6tables" for the IPv6 rules.</summary>
    public string LoopName => IptablesFilter.Program(_filter.Family);

    /// <summary>
    /// Starts on the thread pool what can be done before the lease is known, so that it overlaps the etcd round trips:
    /// without --ip-masq the rules do not depend on our subnet and are applied whole; with it the packet filter's
    /// current state is read. Never fails: <see cref="Apply"/> does the work again and reports the problem.
    /// </summary>
    public Task PrepareAsync(IpNetwork network) => !Enabled ? Task.CompletedTask : Task.Run(() =>
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
    public void Apply(IpNetwork network, IpNetwork subnet)
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
            _filter.Apply(policy, _previousNetwork, _previousSubnet);
            _policy = policy;
            // A lease re-acquired later with another subnet retires this one's rules, as a restart does from subnet.env.
            _previousNetwork = policy.Network;
            if (policy.Masquerade)
            {
                _previousSubnet = policy.Subnet;
            }
        }
    }

    /// <summary>
    /// Removes our network's rules from the other mode (iptables vs nftables). Run by <see cref="RunAsync"/> after
    /// READY: the other mode's rules do not touch ours, and each removal costs process runs that would otherwise delay
    /// subnet.env.
    /// </summary>
    public void RemoveOtherMode()
    {
        string other = _filter.OtherName;
        try
        {
            int removed;
            lock (_lock)
            {
                if (_policy is not { } policy)
                {
                    return;
                }
                removed = _filter.RemoveOther(policy, _previousNetwork, _previousSubnet);
            }
            if (removed > 0)
            {
                RulesLog.RemovedOther(_log, _filter.Name, removed, other);
            }
        }
        catch (RulesException e)
        {
            RulesLog.RemoveOtherFailed(_log, _filter.Name, other, e.Message);
        }
    }

    /// <summary>Checks the rules once; true when they had to be applied again.</summary>
    /// <exception cref="RulesException">The rules could not be read or written.</exception>
    public bool Check()
    {
        IReadOnlyList<string> problems;
        lock (_lock)
        {
            if (_policy is null)
            {
                return false;
            }
            problems = _filter.Ensure(_policy);
        }
        if (problems.Count == 0)
        {
            return false;
        }
        RulesLog.Restored(_log, _filter.Name, string.Join("; ", problems));
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
                _health?.Report(LoopName, _resync * 3 + TimeSpan.FromSeconds(30));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
