using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>The peer watch against a real etcd: events, a restart of etcd, compaction.</summary>
[NeedsEtcd]
public class PeerWatchEtcdTests : IClassFixture<EtcdFixture>
{
    private readonly EtcdFixture _etcd;

    public PeerWatchEtcdTests(EtcdFixture etcd) => _etcd = etcd;

    private static string Peer(int i) =>
        "{\"PublicIP\":\"198.51.100." + i + "\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:00:" + (i % 256).ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + "\"}}";

    /// <summary>Runs a watch loop and records what it delivers.</summary>
    private sealed class Recorder
    {
        public ConcurrentQueue<LeaseEvent> Events { get; } = new();
        public ConcurrentDictionary<SubnetKey, Lease> State { get; } = new();

        public Task Handle(IReadOnlyList<LeaseEvent> events, CancellationToken _)
        {
            foreach (var e in events)
            {
                Events.Enqueue(e);
                if (e.Kind == LeaseEventKind.Added)
                {
                    State[e.Lease.Key] = e.Lease;
                }
                else
                {
                    State.TryRemove(e.Lease.Key, out var _);
                }
            }
            return Task.CompletedTask;
        }

        public int Count(LeaseEventKind kind, string key) => Events.Count(e => e.Kind == kind && e.Lease.Key.ToString() == key);
    }

    private static SubnetKey Key(string s) => SubnetKeyCodec.TryParse(s, out var k) ? k : throw new ArgumentException(s);

    [Fact]
    public async Task Peer_add_and_remove_are_seen_and_our_own_lease_and_bad_entries_are_skipped()
    {
        var o = _etcd.NewOptions();
        using var conn = new EtcdConnection(o);
        var log = new ListLogger<EtcdSubnetRegistry>();
        var registry = new EtcdSubnetRegistry(conn, log);
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.SubnetsPrefix + "10.30.1.0-24", Peer(1)); // present before the watch: comes from the listing
        await c.PutAsync(o.SubnetsPrefix + "10.30.9.0-24", Peer(9)); // "ours"

        var rec = new Recorder();
        var own = Key("10.30.9.0-24");
        using var cts = new CancellationTokenSource();
        var loop = new LeaseWatchLoop(registry, log).RunAsync(k => k != own, rec.Handle, cts.Token);
        try
        {
            await Wait.UntilAsync(() => rec.State.ContainsKey(Key("10.30.1.0-24")), TimeSpan.FromSeconds(10), "listed peer");
            await c.PutAsync(o.SubnetsPrefix + "10.30.2.0-24", Peer(2));
            await c.PutAsync(o.SubnetsPrefix + "not-a-subnet", Peer(3));
            await c.PutAsync(o.SubnetsPrefix + "10.30.4.0-24", "{garbage");
            await c.PutAsync(o.SubnetsPrefix + "10.30.9.0-24", Peer(10)); // our own key changes: not a peer event
            await Wait.UntilAsync(() => rec.State.ContainsKey(Key("10.30.2.0-24")), TimeSpan.FromSeconds(10), "added peer");
            await c.DeleteAsync(o.SubnetsPrefix + "10.30.1.0-24");
            await Wait.UntilAsync(() => !rec.State.ContainsKey(Key("10.30.1.0-24")), TimeSpan.FromSeconds(10), "removed peer");

            var removed = Assert.Single(rec.Events, e => e.Kind == LeaseEventKind.Removed);
            Assert.Equal("198.51.100.1", removed.Lease.Attrs.PublicIP.ToString()); // last known attrs
            Assert.Equal("vxlan", removed.Lease.Attrs.BackendType);
            Assert.DoesNotContain(rec.Events, e => e.Lease.Key == own);
            Assert.Equal(["10.30.2.0-24"], rec.State.Keys.Select(k => k.ToString()));
            await Wait.UntilAsync(() => log.Count(1000) >= 1 && log.Count(1001) >= 1, TimeSpan.FromSeconds(5), "warnings for bad entries");
        }
        finally
        {
            await cts.CancelAsync();
            await loop;
        }
    }

    [Fact]
    public async Task No_event_is_missed_across_an_etcd_restart()
    {
        await using var etcd = await EtcdServer.StartAsync(); // its own etcd: this test stops it
        var o = new EtcdOptions { Endpoints = [etcd.Endpoint], Prefix = "/restart/network" };
        using var conn = new EtcdConnection(o);
        var log = new ListLogger<EtcdSubnetRegistry>();
        var rec = new Recorder();
        using var cts = new CancellationTokenSource();
        // No periodic resync during the test: every change must come through the watch itself.
        var options = new LeaseWatchOptions { ResyncInterval = TimeSpan.FromHours(1) };
        var loop = new LeaseWatchLoop(new EtcdSubnetRegistry(conn, log), log, options).RunAsync(_ => true, rec.Handle, cts.Token);
        try
        {
            using (var c = etcd.NewClient())
            {
                await c.PutAsync(o.SubnetsPrefix + "10.31.1.0-24", Peer(1));
            }
            await Wait.UntilAsync(() => rec.State.Count == 1, TimeSpan.FromSeconds(10), "first peer");

            await etcd.StopAsync();
            await Task.Delay(500);
            await etcd.RestartAsync();
            // Written right after the restart, while the watch is still reconnecting with backoff.
            using (var c = etcd.NewClient())
            {
                for (int i = 2; i <= 11; i++)
                {
                    await c.PutAsync(o.SubnetsPrefix + $"10.31.{i}.0-24", Peer(i));
                }
                await c.DeleteAsync(o.SubnetsPrefix + "10.31.1.0-24");
                await c.DeleteAsync(o.SubnetsPrefix + "10.31.2.0-24");
            }
            await Wait.UntilAsync(() => rec.State.Count == 9 && !rec.State.ContainsKey(Key("10.31.2.0-24")), TimeSpan.FromSeconds(30), "all changes after restart");
            for (int i = 2; i <= 11; i++)
            {
                Assert.Equal(1, rec.Count(LeaseEventKind.Added, $"10.31.{i}.0-24"));
            }
            Assert.Equal(1, rec.Count(LeaseEventKind.Removed, "10.31.1.0-24"));
            Assert.Equal(1, rec.Count(LeaseEventKind.Removed, "10.31.2.0-24"));
            // The stream either fails (and resumes from the last revision) or is re-established by the gRPC layer;
            // either way every change arrives exactly once, without a resync having to repair anything.
            Assert.Equal(0, log.Count(1044));
        }
        finally
        {
            await cts.CancelAsync();
            await loop;
        }
    }

    /// <summary>Wraps the real registry: the first watch stream breaks after its first batch, the next waits for a gate.</summary>
    private sealed class BreakingRegistry(ISubnetRegistry inner) : ISubnetRegistry
    {
        private int _watches;
        public TaskCompletionSource FirstBroken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Listings;

        public Task<string?> GetNetworkConfigAsync(CancellationToken ct) => inner.GetNetworkConfigAsync(ct);
        public Task<LeaseSnapshot> GetLeasesAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref Listings);
            return inner.GetLeasesAsync(ct);
        }
        public Task<Lease?> CreateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, CancellationToken ct) => inner.CreateLeaseAsync(key, attrs, ttl, ct);
        public Task<Lease> UpdateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, long previousEtcdLease, CancellationToken ct) => inner.UpdateLeaseAsync(key, attrs, ttl, previousEtcdLease, ct);
        public Task DeleteLeaseAsync(SubnetKey key, CancellationToken ct) => inner.DeleteLeaseAsync(key, ct);
        public Task<DateTimeOffset> GetExpirationAsync(long etcdLeaseId, CancellationToken ct) => inner.GetExpirationAsync(etcdLeaseId, ct);

        public async IAsyncEnumerable<WatchBatch> WatchLeasesAsync(long afterRevision, [EnumeratorCancellation] CancellationToken ct)
        {
            int n = Interlocked.Increment(ref _watches);
            if (n == 2)
            {
                await Gate.Task.WaitAsync(ct);
            }
            await foreach (var b in inner.WatchLeasesAsync(afterRevision, ct))
            {
                yield return b;
                if (n == 1 && b.Changes.Count > 0)
                {
                    FirstBroken.TrySetResult();
                    throw new IOException("stream broken by the test");
                }
            }
        }
    }

    [Fact]
    public async Task A_compacted_revision_is_recovered_by_listing_again_and_diffing()
    {
        var o = _etcd.NewOptions();
        using var conn = new EtcdConnection(o);
        var log = new ListLogger<EtcdSubnetRegistry>();
        var breaking = new BreakingRegistry(new EtcdSubnetRegistry(conn, log));
        var rec = new Recorder();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.SubnetsPrefix + "10.32.1.0-24", Peer(1));
        await c.PutAsync(o.SubnetsPrefix + "10.32.2.0-24", Peer(2));
        using var cts = new CancellationTokenSource();
        var options = new LeaseWatchOptions { ResyncInterval = TimeSpan.FromHours(1), MinBackoff = TimeSpan.FromMilliseconds(10) };
        var loop = new LeaseWatchLoop(breaking, log, options).RunAsync(_ => true, rec.Handle, cts.Token);
        try
        {
            await Wait.UntilAsync(() => rec.State.Count == 2, TimeSpan.FromSeconds(10), "listed peers");
            await c.PutAsync(o.SubnetsPrefix + "10.32.3.0-24", Peer(3)); // delivered, then the stream breaks
            await breaking.FirstBroken.Task.WaitAsync(TimeSpan.FromSeconds(10));

            // While the watch is down: one peer leaves, two arrive (one of them changes twice), and history is compacted.
            await c.DeleteAsync(o.SubnetsPrefix + "10.32.1.0-24");
            await c.PutAsync(o.SubnetsPrefix + "10.32.4.0-24", Peer(4));
            await c.PutAsync(o.SubnetsPrefix + "10.32.5.0-24", Peer(5));
            await c.PutAsync(o.SubnetsPrefix + "10.32.5.0-24", Peer(55));
            await _etcd.Server.CompactAsync();
            breaking.Gate.SetResult();

            await Wait.UntilAsync(() => rec.State.Count == 4 && !rec.State.ContainsKey(Key("10.32.1.0-24")), TimeSpan.FromSeconds(15), "state after compaction");
            Assert.Equal(["10.32.2.0-24", "10.32.3.0-24", "10.32.4.0-24", "10.32.5.0-24"], rec.State.Keys.Select(k => k.ToString()).Order());
            Assert.Equal("198.51.100.55", rec.State[Key("10.32.5.0-24")].Attrs.PublicIP.ToString());
            Assert.Equal(1, rec.Count(LeaseEventKind.Removed, "10.32.1.0-24"));
            Assert.Equal(1, rec.Count(LeaseEventKind.Added, "10.32.2.0-24")); // unchanged leases are not re-announced
            Assert.Equal(1, log.Count(1043)); // WatchCompacted
            Assert.Equal(2, breaking.Listings);

            // And the watch goes on after the recovery.
            await c.PutAsync(o.SubnetsPrefix + "10.32.6.0-24", Peer(6));
            await Wait.UntilAsync(() => rec.State.Count == 5, TimeSpan.FromSeconds(10), "peer after recovery");
        }
        finally
        {
            await cts.CancelAsync();
            await loop;
        }
    }

    [Fact]
    public async Task Periodic_resync_repairs_state_and_logs_it()
    {
        var o = _etcd.NewOptions();
        using var conn = new EtcdConnection(o);
        var log = new ListLogger<EtcdSubnetRegistry>();
        var rec = new Recorder();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.SubnetsPrefix + "10.33.1.0-24", Peer(1));
        using var cts = new CancellationTokenSource();
        var clock = new ManualClock();
        var options = new LeaseWatchOptions { TimeProvider = clock };
        var loop = new LeaseWatchLoop(new EtcdSubnetRegistry(conn, log, clock), log, options).RunAsync(_ => true, rec.Handle, cts.Token);
        try
        {
            await Wait.UntilAsync(() => rec.State.Count == 1, TimeSpan.FromSeconds(10), "listed");
            for (int i = 0; i < 2; i++) // two resyncs with nothing to repair
            {
                await clock.AdvanceWhenArmedAsync(options.ResyncInterval, "the resync window");
            }
            await clock.WhenArmedAsync(options.ResyncInterval, "the window after the second resync");
            Assert.Single(rec.Events);
            Assert.Equal(0, log.Count(1044));
            await c.PutAsync(o.SubnetsPrefix + "10.33.2.0-24", Peer(2));
            await Wait.UntilAsync(() => rec.State.Count == 2, TimeSpan.FromSeconds(10), "watched add");
            Assert.Equal(0, log.Count(1042)); // a resync closes the stream on purpose: not an interruption
        }
        finally
        {
            await cts.CancelAsync();
            await loop;
        }
    }
}
