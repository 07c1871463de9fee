using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// List, then one long-lived watch from the listed revision + 1 that handles every event of every response
/// (flannel HEAD's semantics, compat §1.7, without v0.20's lost events). A broken stream resumes from the last
/// revision seen with backoff; a compacted revision re-lists and diffs; a periodic resync diffs too.
/// </summary>
internal sealed class LeaseWatchLoop
{
    private readonly ISubnetRegistry _registry;
    private readonly ILogger _log;
    private readonly LeaseWatchOptions _options;
    private readonly TimeProvider _time;

    public LeaseWatchLoop(ISubnetRegistry registry, ILogger log, LeaseWatchOptions? options = null)
    {
        _registry = registry;
        _log = log;
        _options = options ?? new LeaseWatchOptions();
        _time = _options.TimeProvider;
    }

    /// <summary>
    /// Runs until <paramref name="ct"/> is cancelled, handing each batch of events of the leases selected by
    /// <paramref name="include"/> to <paramref name="onEvents"/> in order; the first listing always, even empty. The
    /// handler deals with its own failures.
    /// </summary>
    public async Task RunAsync(Func<SubnetKey, bool> include, Func<IReadOnlyList<LeaseEvent>, CancellationToken, Task> onEvents, CancellationToken ct)
    {
        var cache = new LeaseCache(include);
        long revision = -1; // -1: list first
        bool listed = false;
        var backoff = _options.MinBackoff;
        var nextResync = _time.GetUtcNow() + _options.ResyncInterval;
        while (!ct.IsCancellationRequested)
        {
            CancellationTokenSource? window = null;
            try
            {
                if (revision < 0 || _time.GetUtcNow() >= nextResync)
                {
                    var snapshot = await _registry.GetLeasesAsync(ct).ConfigureAwait(false);
                    var events = cache.Reset(snapshot.Leases);
                    if (listed && events.Count > 0)
                    {
                        SubnetLog.ResyncRepaired(_log, events.Count);
                    }
                    bool first = !listed;
                    listed = true;
                    revision = snapshot.Revision;
                    ReportHealth();
                    nextResync = _time.GetUtcNow() + _options.ResyncInterval;
                    // The first listing is handed over even when empty: it tells the handler the full set is known
                    // (the vxlan backend removes entries of vanished peers only after that).
                    if (events.Count > 0 || first)
                    {
                        await onEvents(events, ct).ConfigureAwait(false);
                    }
                }
                // The stream is closed at the next resync time; the loop then lists and resumes after the listing.
                window = new CancellationTokenSource(Max(nextResync - _time.GetUtcNow(), TimeSpan.Zero), _time);
                using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct, window.Token);
                await foreach (var batch in _registry.WatchLeasesAsync(revision, watching.Token).ConfigureAwait(false))
                {
                    var events = new List<LeaseEvent>();
                    foreach (var change in batch.Changes)
                    {
                        if (change.Kind == WatchChangeKind.Put)
                        {
                            cache.Put(change.Lease!, events);
                        }
                        else
                        {
                            cache.Delete(change.Key, events);
                        }
                    }
                    revision = batch.Revision;
                    backoff = _options.MinBackoff;
                    ReportHealth();
                    if (events.Count > 0)
                    {
                        await onEvents(events, ct).ConfigureAwait(false);
                    }
                }
                throw new IOException("watch stream closed by the server");
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (window?.IsCancellationRequested == true)
            {
                // The resync window ended: list again at the top of the loop.
            }
            catch (WatchCompactedException)
            {
                SubnetMetrics.WatchRestarted("compacted");
                SubnetLog.WatchCompacted(_log, revision);
                revision = -1;
            }
            // etcd failing or unreachable (the etcd layer's exceptions), the stream ending, or a handler's I/O error.
            catch (Exception e) when (e is EtcdException or IOException or InvalidOperationException)
            {
                SubnetMetrics.WatchRestarted("error");
                SubnetLog.WatchInterrupted(_log, e.Message, revision, (long)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = Min(backoff * 2, _options.MaxBackoff);
            }
            finally
            {
                window?.Dispose();
            }
        }
    }

    // Healthy while something arrives at least once per resync interval (the listing does), with a minute to spare.
    private void ReportHealth() => _options.Health.Report(_options.HealthName, _options.ResyncInterval + TimeSpan.FromMinutes(1));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
