using System.Threading.Channels;
using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Watches our own key and takes the subnet back when it disappears (deleted, or its etcd lease expired during an
/// outage): the same subnet if still free, else a new one by the usual acquisition. flanneld would exit instead
/// (compat §1.4). Each re-acquired lease is written to <see cref="LeaseManager.Reacquired"/>.
/// </summary>
internal sealed class OwnLeaseGuard
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseState _state;
    private readonly LeaseAcquirer _acquirer;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;
    private readonly ChannelWriter<Lease> _reacquired;
    private readonly TimeProvider _time;

    public OwnLeaseGuard(ISubnetRegistry registry, LeaseState state, LeaseAcquirer acquirer, LeaseManagerOptions options, ILogger log,
        ChannelWriter<Lease> reacquired)
    {
        _registry = registry;
        _state = state;
        _acquirer = acquirer;
        _options = options;
        _log = log;
        _reacquired = reacquired;
        _time = options.TimeProvider;
    }

    /// <summary>After a failed re-acquisition (the log line says "retrying in 1 s").</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Runs until cancelled. A lease must be held.</summary>
    public Task RunAsync(CancellationToken ct)
    {
        var watch = new LeaseWatchLoop(_registry, _log, _options.Watch with { Health = _options.Health, HealthName = "own-lease-watch", TimeProvider = _time });
        return watch.RunAsync(k => _state.Current is { } c && c.Key == k, OnEventsAsync, ct);
    }

    /// <summary>The lease the events say we lost (the last removal), or null when they only changed it.</summary>
    internal static Lease? Lost(IReadOnlyList<LeaseEvent> events) => events.LastOrDefault(e => e.Kind == LeaseEventKind.Removed)?.Lease;

    private async Task OnEventsAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        if (Lost(events) is not { } lost)
        {
            return;
        }
        SubnetLog.LeaseLost(_log, lost.Key.ToString());
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ReacquireAsync(lost.Key, ct).ConfigureAwait(false);
                return;
            }
            // Etcd failing (refusals too: an operator may fix them in time) or no subnet to be had: try again.
            catch (Exception e) when (!ct.IsCancellationRequested && e is EtcdException or LeaseAcquisitionException)
            {
                SubnetLog.ReacquireFailed(_log, e.Message);
                await Task.Delay(RetryDelay, _time, ct).ConfigureAwait(false);
            }
        }
    }

    private Task<Lease> ReacquireAsync(SubnetKey lostKey, CancellationToken ct) => _state.WriteAsync(async () =>
    {
        // Prefer the very same subnet: containers keep their addresses and peers' routes stay valid.
        var lease = await _registry.CreateLeaseAsync(lostKey, _state.Attrs!, _options.LeaseTtl, ct).ConfigureAwait(false)
                    ?? await _acquirer.AcquireAsync(_state.Config!, _state.Attrs!, lostKey, ct).ConfigureAwait(false);
        _state.Current = lease;
        SubnetLog.Reacquired(_log, lease.Key.ToString(), lostKey.ToString(),
            lease.Key == lostKey ? "" : "; the subnet CHANGED: containers on this host need new addresses");
        SubnetMetrics.Reacquired();
        _reacquired.TryWrite(lease);
        return lease;
    }, ct);
}
