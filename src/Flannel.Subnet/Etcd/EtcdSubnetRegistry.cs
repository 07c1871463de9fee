using System.Runtime.CompilerServices;
using Etcdserverpb;
using Flannel.Subnet.Leases;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;
using Lease = Flannel.Subnet.Leases.Lease;

namespace Flannel.Subnet.Etcd;

/// <summary>flannel's keys and values on the etcd v3 API (compat §1).</summary>
public sealed class EtcdSubnetRegistry : ISubnetRegistry
{
    private readonly EtcdConnection _etcd;
    private readonly ILogger _log;
    private readonly OncePerRevision _badValues = new(); // both watch loops and every resync decode the same keys
    private readonly TimeProvider _time;

    /// <param name="time">The clock of the expirations it computes: the lease manager's, which compares them with its own.</param>
    public EtcdSubnetRegistry(EtcdConnection etcd, ILogger<EtcdSubnetRegistry> log, TimeProvider? time = null)
    {
        _etcd = etcd;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    private EtcdOptions Options => _etcd.Options;

    public async Task<string?> GetNetworkConfigAsync(CancellationToken ct)
    {
        var resp = await _etcd.CallAsync(h => _etcd.Client.GetAsync(Options.ConfigKey, h, cancellationToken: ct), ct).ConfigureAwait(false);
        return resp.Kvs.Count == 0 ? null : resp.Kvs[0].Value.ToStringUtf8();
    }

    public async Task<string?> FindV2ConfigAsync(CancellationToken ct)
    {
        try
        {
            using var v2 = new V2.EtcdV2Client(Options, TimeSpan.FromSeconds(2));
            var node = await v2.GetAsync(Options.ConfigKey, ct).ConfigureAwait(false);
            return node is { Dir: false, Value: { } value } ? value : null;
        }
        catch (V2.EtcdV2Exception)
        {
            return null; // no v2 API (etcd without --enable-v2, or 3.5+): nothing to hint at
        }
    }

    /// <summary>Every key under <paramref name="prefix"/> with its value, as stored (for the v2 migration's comparison).</summary>
    public async Task<Dictionary<string, string>> GetRawRangeAsync(string prefix, CancellationToken ct)
    {
        var resp = await _etcd.CallAsync(h => _etcd.Client.GetRangeAsync(prefix, h, cancellationToken: ct), ct).ConfigureAwait(false);
        return resp.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Writes <paramref name="value"/> byte for byte at <paramref name="key"/>, attached to a fresh etcd lease of
    /// <paramref name="ttl"/> when given; only if the key is absent unless <paramref name="overwrite"/>. False when the
    /// key appeared meanwhile.
    /// </summary>
    public async Task<bool> CopyAsync(string key, string value, TimeSpan? ttl, bool overwrite, CancellationToken ct)
    {
        long lease = ttl is { } t ? (await GrantAsync(t, ct).ConfigureAwait(false)).ID : 0;
        var path = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        if (!overwrite)
        {
            txn.Compare.Add(new Compare
            {
                Key = path,
                Target = Compare.Types.CompareTarget.Version,
                Result = Compare.Types.CompareResult.Equal,
                Version = 0,
            });
        }
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = path, Value = ByteString.CopyFromUtf8(value), Lease = lease } });
        var resp = await _etcd.CallAsync(h => _etcd.Client.TransactionAsync(txn, h, cancellationToken: ct), ct).ConfigureAwait(false);
        if (!resp.Succeeded && lease != 0)
        {
            await RevokeQuietlyAsync(lease, ct).ConfigureAwait(false);
        }
        return resp.Succeeded;
    }

    public async Task<LeaseSnapshot> GetLeasesAsync(CancellationToken ct)
    {
        var resp = await _etcd.CallAsync(h => _etcd.Client.GetRangeAsync(Options.SubnetsPrefix, h, cancellationToken: ct), ct).ConfigureAwait(false);
        var leases = new List<Lease>(resp.Kvs.Count);
        foreach (var kv in resp.Kvs)
        {
            if (TryDecode(kv) is { } lease)
            {
                leases.Add(lease);
            }
        }
        return new LeaseSnapshot(leases, resp.Header.Revision);
    }

    public async Task<Lease?> CreateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, CancellationToken ct)
    {
        var grant = await GrantAsync(ttl, ct).ConfigureAwait(false);
        var path = ByteString.CopyFromUtf8(Options.SubnetKeyPath(key));
        var txn = new TxnRequest();
        // flannel: If(Version(key) == 0) Then(Put(key, value, WithLease(id))).
        txn.Compare.Add(new Compare
        {
            Key = path,
            Target = Compare.Types.CompareTarget.Version,
            Result = Compare.Types.CompareResult.Equal,
            Version = 0,
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = path, Value = ByteString.CopyFromUtf8(attrs.ToJson()), Lease = grant.ID } });
        var resp = await _etcd.CallAsync(h => _etcd.Client.TransactionAsync(txn, h, cancellationToken: ct), ct).ConfigureAwait(false);
        if (!resp.Succeeded)
        {
            // Someone else holds the subnet; the lease we granted would otherwise linger for a day.
            await RevokeQuietlyAsync(grant.ID, ct).ConfigureAwait(false);
            return null;
        }
        return new Lease(key, attrs, grant.ID, resp.Header.Revision) { Expiration = _time.GetUtcNow().AddSeconds(grant.TTL) };
    }

    public async Task<Lease> UpdateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, long previousEtcdLease, CancellationToken ct)
    {
        var grant = await GrantAsync(ttl, ct).ConfigureAwait(false);
        var put = new PutRequest { Key = ByteString.CopyFromUtf8(Options.SubnetKeyPath(key)), Value = ByteString.CopyFromUtf8(attrs.ToJson()), Lease = grant.ID };
        var resp = await _etcd.CallAsync(h => _etcd.Client.PutAsync(put, h, cancellationToken: ct), ct).ConfigureAwait(false);
        // flanneld never revokes the old lease, so etcd keeps one empty lease per renewal for a day. The key now
        // hangs on the new lease, so revoking the old one removes nothing else.
        if (previousEtcdLease != 0 && previousEtcdLease != grant.ID)
        {
            await RevokeQuietlyAsync(previousEtcdLease, ct).ConfigureAwait(false);
        }
        return new Lease(key, attrs, grant.ID, resp.Header.Revision) { Expiration = _time.GetUtcNow().AddSeconds(grant.TTL) };
    }

    public async Task DeleteLeaseAsync(SubnetKey key, CancellationToken ct) =>
        await _etcd.CallAsync(h => _etcd.Client.DeleteAsync(Options.SubnetKeyPath(key), h, cancellationToken: ct), ct).ConfigureAwait(false);

    public async Task<DateTimeOffset> GetExpirationAsync(long etcdLeaseId, CancellationToken ct)
    {
        if (etcdLeaseId == 0)
        {
            return _time.GetUtcNow().AddSeconds(-1);
        }
        return _time.GetUtcNow() + await GetRemainingAsync(etcdLeaseId, ct).ConfigureAwait(false);
    }

    /// <summary>How long an etcd lease has left (-1 s when etcd no longer knows it).</summary>
    public async Task<TimeSpan> GetRemainingAsync(long etcdLeaseId, CancellationToken ct)
    {
        var resp = await _etcd.CallAsync(h => _etcd.Client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = etcdLeaseId }, h, cancellationToken: ct), ct).ConfigureAwait(false);
        return TimeSpan.FromSeconds(resp.TTL);
    }

    public async IAsyncEnumerable<WatchBatch> WatchLeasesAsync(long afterRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        using var call = await OpenWatchAsync(afterRevision, ct).ConfigureAwait(false);
        long cursor = afterRevision;
        while (await MoveNextAsync(call.ResponseStream, ct).ConfigureAwait(false))
        {
            var resp = call.ResponseStream.Current;
            if (resp.CompactRevision != 0)
            {
                throw new WatchCompactedException(resp.CompactRevision);
            }
            if (resp.Canceled)
            {
                var canceled = EtcdFailure.WatchCanceled(resp.CancelReason);
                if (canceled is EtcdAccessDeniedException)
                {
                    _etcd.InvalidateToken();
                }
                throw canceled;
            }
            if (resp.Events.Count == 0)
            {
                // A progress notification: everything up to the header revision has been sent.
                if (!resp.Created && resp.Header.Revision > cursor)
                {
                    cursor = resp.Header.Revision;
                    yield return new WatchBatch([], cursor);
                }
                continue;
            }
            var changes = new List<WatchChange>(resp.Events.Count);
            foreach (var ev in resp.Events)
            {
                // The resume point is the last event seen, not the header revision: a response's header can run
                // ahead of events that have not been sent yet.
                cursor = Math.Max(cursor, ev.Kv.ModRevision);
                string keyText = ev.Kv.Key.ToStringUtf8();
                if (!SubnetKeyCodec.TryParse(keyText, out var key))
                {
                    if (_badValues.FirstTime(keyText, ev.Kv.ModRevision))
                    {
                        SubnetLog.BadSubnetKey(_log, keyText);
                    }
                    continue;
                }
                if (ev.Type == Event.Types.EventType.Delete)
                {
                    changes.Add(new WatchChange(WatchChangeKind.Delete, key, null));
                }
                else if (TryDecode(ev.Kv, key) is { } lease)
                {
                    changes.Add(new WatchChange(WatchChangeKind.Put, key, lease));
                }
            }
            yield return new WatchBatch(changes, cursor);
        }
    }

    /// <summary>Opens the watch stream on the subnets prefix from <paramref name="afterRevision"/> + 1.</summary>
    private async Task<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>> OpenWatchAsync(long afterRevision, CancellationToken ct)
    {
        AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? call = null;
        bool opened = false;
        try
        {
            var headers = await _etcd.GetHeadersAsync(ct).ConfigureAwait(false);
            var callHeaders = new Metadata();
            if (headers is not null)
            {
                foreach (var h in headers)
                {
                    callHeaders.Add(h);
                }
            }
            // etcd's WithRequireLeader: a member cut off from the leader ends the stream instead of going silent, so the
            // loop reconnects (possibly to another member).
            callHeaders.Add("hasleader", "true");
            call = _etcd.Client.GetConnection().WatchClient.Watch(callHeaders, cancellationToken: ct);
            string prefix = Options.SubnetsPrefix;
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = ByteString.CopyFromUtf8(prefix),
                    RangeEnd = ByteString.CopyFromUtf8(dotnet_etcd.EtcdClient.GetRangeEnd(prefix)),
                    StartRevision = afterRevision + 1,
                    ProgressNotify = true,
                },
            }, ct).ConfigureAwait(false);
            opened = true;
            return call;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw ConnectionLost(e);
        }
        catch (RpcException e)
        {
            throw Failure(e, ct);
        }
        finally
        {
            if (!opened)
            {
                call?.Dispose();
            }
        }
    }

    private async Task<bool> MoveNextAsync(IAsyncStreamReader<WatchResponse> stream, CancellationToken ct)
    {
        try
        {
            return await stream.MoveNext(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw ConnectionLost(e);
        }
        catch (RpcException e)
        {
            throw Failure(e, ct);
        }
    }

    // Not our token: the HTTP/2 connection was aborted under the stream (its keepalive pings went unanswered, etcd
    // frozen or the path gone). A lost connection, which the watch loop resumes from.
    private static EtcdUnavailableException ConnectionLost(OperationCanceledException e) =>
        new(EtcdException.UnavailableCode, EtcdFailure.ConnectionLost, e);

    private Exception Failure(RpcException e, CancellationToken ct)
    {
        if (e.StatusCode == StatusCode.Unauthenticated)
        {
            // An expired auth token: the next attempt of the watch loop authenticates again.
            _etcd.InvalidateToken();
        }
        return _etcd.Translate(e, ct);
    }

    private Lease? TryDecode(KeyValue kv)
    {
        string keyText = kv.Key.ToStringUtf8();
        if (!SubnetKeyCodec.TryParse(keyText, out var key))
        {
            if (_badValues.FirstTime(keyText, kv.ModRevision))
            {
                SubnetLog.BadSubnetKey(_log, keyText);
            }
            return null;
        }
        return TryDecode(kv, key);
    }

    private Lease? TryDecode(KeyValue kv, SubnetKey key)
    {
        try
        {
            return new Lease(key, LeaseAttrs.FromJson(kv.Value.Span), kv.Lease, kv.ModRevision);
        }
        catch (LeaseDecodeException e)
        {
            if (_badValues.FirstTime(key.ToString(), kv.ModRevision))
            {
                SubnetLog.BadLeaseValue(_log, key.ToString(), e.Message);
            }
            return null;
        }
    }

    private Task<LeaseGrantResponse> GrantAsync(TimeSpan ttl, CancellationToken ct) =>
        _etcd.CallAsync(h => _etcd.Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, h, cancellationToken: ct), ct);

    private async Task RevokeQuietlyAsync(long id, CancellationToken ct)
    {
        try
        {
            await _etcd.CallAsync(h => _etcd.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, h, cancellationToken: ct), ct).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            // Not fatal: an unrevoked lease only expires on its own.
            SubnetLog.RevokeFailed(_log, id, e.Detail);
        }
    }
}
