using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Watches the other hosts' leases: a snapshot first (as added events), then every change. Our own lease is never
/// reported, whichever subnet we hold at the time; a lease that fails validation is never handed on, and one that
/// turns bad is withdrawn.
/// </summary>
internal sealed class PeerWatch
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseState _state;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;
    private readonly OncePerRevision _rejected = new(); // a rejection is logged once per key and revision

    public PeerWatch(ISubnetRegistry registry, LeaseState state, LeaseManagerOptions options, ILogger log)
    {
        _registry = registry;
        _state = state;
        _options = options;
        _log = log;
    }

    /// <summary>Runs until cancelled, handing each batch of accepted peer changes to <paramref name="onEvents"/>.</summary>
    public Task RunAsync(Func<IReadOnlyList<LeaseEvent>, CancellationToken, Task> onEvents, CancellationToken ct)
    {
        // The peers handed to the backend, by key.
        var accepted = new Dictionary<SubnetKey, Lease>();
        return new LeaseWatchLoop(_registry, _log, _options.Watch with { Health = _options.Health, HealthName = "peer-watch", TimeProvider = _options.TimeProvider }).RunAsync(
            k => _state.Current is not { } own || own.Key != k,
            async (events, token) =>
            {
                var passed = Filter(events, accepted);
                SubnetMetrics.PeerLeases(accepted.Count);
                if (passed.Count > 0 || events.Count == 0) // an empty batch is the first listing: pass it on
                {
                    await onEvents(passed, token).ConfigureAwait(false);
                }
            },
            ct);
    }

    /// <summary>The events to hand on for <paramref name="events"/>, with <paramref name="accepted"/> brought up to date.</summary>
    private List<LeaseEvent> Filter(IReadOnlyList<LeaseEvent> events, Dictionary<SubnetKey, Lease> accepted)
    {
        var passed = new List<LeaseEvent>(events.Count);
        foreach (var e in events)
        {
            var key = e.Lease.Key;
            if (e.Kind == LeaseEventKind.Added)
            {
                if (Problem(e.Lease, _state.Config, _state.Attrs, _state.Current, accepted.Keys) is { } problem)
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
        return passed;
    }

    /// <summary>
    /// Why a peer lease must not be programmed, or null when it may: a subnet this network cannot have handed out, one
    /// overlapping ours or an accepted peer's, our own public IP, or another backend than ours.
    /// </summary>
    internal static string? Problem(Lease lease, NetworkConfig? config, LeaseAttrs? ours, Lease? own, IEnumerable<SubnetKey> accepted)
    {
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
        if (ours is not null && lease.Attrs.PublicIP == ours.PublicIP)
        {
            return $"its PublicIP {lease.Attrs.PublicIP} is this host's own";
        }
        if (ours is not null && !string.Equals(lease.Attrs.BackendType ?? "udp", ours.BackendType ?? "udp", StringComparison.OrdinalIgnoreCase))
        {
            return $"backend type {lease.Attrs.BackendType ?? "udp"}, this host runs {ours.BackendType ?? "udp"}";
        }
        if (own is not null && own.Key != key && own.Key.Subnet.Overlaps(key.Subnet))
        {
            return $"subnet {key.Subnet} overlaps this host's {own.Key.Subnet}";
        }
        foreach (var other in accepted)
        {
            if (other != key && other.Subnet.Overlaps(key.Subnet))
            {
                return $"subnet {key.Subnet} overlaps peer {other.Subnet}";
            }
        }
        return null;
    }
}
