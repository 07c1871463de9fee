using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>
/// Keeps our key written: renews it before it expires (a fresh etcd lease of the full TTL on the same key, flanneld's
/// renewal), with quick retries and then <see cref="LeaseManagerOptions.RenewRetry"/> while etcd fails, and publishes
/// new attrs on it when they change.
/// </summary>
internal sealed class LeaseRenewer
{
    private readonly ISubnetRegistry _registry;
    private readonly LeaseState _state;
    private readonly LeaseManagerOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public LeaseRenewer(ISubnetRegistry registry, LeaseState state, LeaseManagerOptions options, ILogger log)
    {
        _registry = registry;
        _state = state;
        _options = options;
        _log = log;
        _time = options.TimeProvider;
    }

    /// <summary>Renews each time the renewal is due, until cancelled. A lease must be held.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var lease = _state.Current!;
            TimeSpan wait;
            try
            {
                var expiration = lease.Expiration ?? await _registry.GetExpirationAsync(lease.EtcdLeaseId, ct).ConfigureAwait(false);
                wait = UntilDue(expiration, _options.RenewMargin, _time.GetUtcNow());
                _options.Health.Report("lease-renewal", HealthBound(wait, _options.RenewRetry));
            }
            catch (EtcdException)
            {
                wait = _options.RenewRetry;
            }
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                }
                if (await RenewWithQuickRetriesAsync(ct).ConfigureAwait(false) is { } failure)
                {
                    SubnetLog.RenewFailed(_log, lease.Key.ToString(), failure, _options.RenewRetry.TotalSeconds);
                    SubnetMetrics.Renewed(ok: false);
                    await Task.Delay(_options.RenewRetry, _time, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>How long until the renewal of a lease expiring at <paramref name="expiration"/> is due (negative: overdue).</summary>
    internal static TimeSpan UntilDue(DateTimeOffset expiration, TimeSpan margin, DateTimeOffset now) => expiration - margin - now;

    /// <summary>
    /// How long the renewal loop may stay quiet: until the renewal is due, plus one retry, plus a minute to spare, so a
    /// renewal that keeps failing turns /healthz red.
    /// </summary>
    internal static TimeSpan HealthBound(TimeSpan untilDue, TimeSpan renewRetry) =>
        (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero) + renewRetry + TimeSpan.FromMinutes(1);

    /// <summary>
    /// One renewal, each attempt bounded by <see cref="LeaseManagerOptions.RenewAttemptTimeout"/>, retried after the
    /// <see cref="LeaseManagerOptions.RenewQuickRetries"/> waits. Null when renewed, else why the last attempt failed.
    /// </summary>
    private async Task<string?> RenewWithQuickRetriesAsync(CancellationToken ct)
    {
        var quick = _options.RenewQuickRetries;
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = new CancellationTokenSource(_options.RenewAttemptTimeout, _time);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            string reason;
            try
            {
                await RenewAsync(bounded.Token).ConfigureAwait(false);
                return null;
            }
            // Any etcd failure gets the quick retries (an operator may fix a refusal in time too), and so does our
            // bound running out.
            catch (Exception e) when (!ct.IsCancellationRequested && (e is EtcdException || e is OperationCanceledException && timeout.IsCancellationRequested))
            {
                reason = timeout.IsCancellationRequested
                    ? $"no answer from etcd within {_options.RenewAttemptTimeout.TotalSeconds} s"
                    : e.Message;
            }
            if (attempt >= quick.Count)
            {
                return reason;
            }
            SubnetLog.RenewAttemptFailed(_log, _state.Current!.Key.ToString(), reason, attempt + 1, quick[attempt].TotalSeconds);
            await Task.Delay(quick[attempt], _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Renews now (a new etcd lease of the full TTL on the same key).</summary>
    public Task RenewAsync(CancellationToken ct) => _state.WriteAsync(async () =>
    {
        var lease = _state.Current!;
        var renewed = await _registry.UpdateLeaseAsync(lease.Key, _state.Attrs!, _options.LeaseTtl, lease.EtcdLeaseId, ct).ConfigureAwait(false);
        _state.Current = renewed;
        SubnetLog.Renewed(_log, renewed.Key.ToString(), renewed.Expiration ?? _time.GetUtcNow() + _options.LeaseTtl);
        SubnetMetrics.Renewed(ok: true);
        return renewed;
    }, ct);

    /// <summary>
    /// Publishes new attrs on our lease, same subnet (the external interface's address changed, so the PublicIP did):
    /// the peers follow with their watches. Later renewals and re-acquisitions publish these attrs too.
    /// </summary>
    public Task UpdateAttrsAsync(LeaseAttrs attrs, CancellationToken ct) => _state.WriteAsync(async () =>
    {
        var lease = _state.Current ?? throw new InvalidOperationException("acquire a lease before updating it");
        var previous = _state.Attrs;
        _state.Attrs = attrs;
        var updated = await _registry.UpdateLeaseAsync(lease.Key, attrs, _options.LeaseTtl, lease.EtcdLeaseId, ct).ConfigureAwait(false);
        _state.Current = updated;
        SubnetLog.AttrsUpdated(_log, updated.Key.ToString(), previous?.PublicIP.ToString() ?? "none", attrs.PublicIP.ToString());
        return updated;
    }, ct);
}
