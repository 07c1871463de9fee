using Flannel.Subnet.Etcd;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>The lease manager's retries and polls against a real etcd, its waits on a fake clock.</summary>
[NeedsEtcd]
public class LeaseManagerRetryEtcdTests : IClassFixture<EtcdFixture>
{
    private readonly EtcdFixture _etcd;

    public LeaseManagerRetryEtcdTests(EtcdFixture etcd) => _etcd = etcd;


    /// <summary>The real registry, except that the next <see cref="FailCreates"/> lease creations fail as if etcd were down.</summary>
    private sealed class FailingCreates(ISubnetRegistry inner) : ISubnetRegistry
    {
        public int FailCreates;

        public Task<string?> GetNetworkConfigAsync(CancellationToken ct) => inner.GetNetworkConfigAsync(ct);
        public Task<LeaseSnapshot> GetLeasesAsync(CancellationToken ct) => inner.GetLeasesAsync(ct);
        public Task<Lease?> CreateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, CancellationToken ct) =>
            Interlocked.Decrement(ref FailCreates) >= 0
                ? throw new EtcdUnavailableException("cannot reach etcd at http://198.51.100.1:2379: connection refused")
                : inner.CreateLeaseAsync(key, attrs, ttl, ct);
        public Task<Lease> UpdateLeaseAsync(SubnetKey key, LeaseAttrs attrs, TimeSpan ttl, long previousEtcdLease, CancellationToken ct) => inner.UpdateLeaseAsync(key, attrs, ttl, previousEtcdLease, ct);
        public Task DeleteLeaseAsync(SubnetKey key, CancellationToken ct) => inner.DeleteLeaseAsync(key, ct);
        public Task<DateTimeOffset> GetExpirationAsync(long etcdLeaseId, CancellationToken ct) => inner.GetExpirationAsync(etcdLeaseId, ct);
        public IAsyncEnumerable<WatchBatch> WatchLeasesAsync(long afterRevision, CancellationToken ct) => inner.WatchLeasesAsync(afterRevision, ct);
    }

    [Fact]
    public async Task A_failed_reacquisition_is_retried_a_second_later()
    {
        var o = await _etcd.NewNetworkAsync();
        var clock = new ManualClock();
        var health = new HealthRecorder();
        using var conn = new EtcdConnection(o);
        var registry = new FailingCreates(new EtcdSubnetRegistry(conn, new ListLogger<EtcdSubnetRegistry>(), clock));
        var log = new ListLogger<LeaseManager>();
        using var manager = new LeaseManager(registry, new LeaseManagerOptions { Health = health, TimeProvider = clock }, log, o.ConfigKey);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var config = await manager.WaitForConfigAsync(cts.Token);
        var lease = await manager.AcquireAsync(config, new LeaseAttrs(Ip.Ip4Address.Parse("198.51.100.63")), PreviousSubnets.None, cts.Token);
        using var stop = new CancellationTokenSource();
        var run = manager.RunAsync(stop.Token);
        try
        {
            await Wait.UntilAsync(() => health.Count("own-lease-watch") > 0, TimeSpan.FromSeconds(10), "the own-lease watch's first listing");
            registry.FailCreates = 1;
            using (var c = _etcd.Server.NewClient())
            {
                await c.DeleteAsync(o.SubnetsPrefix + lease.Key);
            }
            await clock.WhenArmedAsync(OwnLeaseGuard.RetryDelay, "the wait before the second attempt");
            var failed = Assert.Single(log.Entries, e => e.Id.Id == 1029);
            Assert.Equal("Re-acquiring the lease failed: cannot reach etcd at http://198.51.100.1:2379: connection refused; retrying in 1 s", failed.Message);
            Assert.False(manager.Reacquired.TryRead(out _));
            clock.Advance(OwnLeaseGuard.RetryDelay);
            var back = await manager.Reacquired.ReadAsync(cts.Token);
            Assert.Equal(lease.Key, back.Key);
            Assert.Equal(1, log.Count(1028));
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_config_change_is_reported_at_the_next_poll_and_the_running_config_kept()
    {
        var o = await _etcd.NewNetworkAsync();
        var clock = new ManualClock();
        using var host = new TestHost(o, "198.51.100.64", new LeaseManagerOptions { TimeProvider = clock });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var running = await host.Manager.WaitForConfigAsync(cts.Token);
        var watching = host.Manager.WatchConfigAsync(running, cts.Token);
        var poll = new LeaseManagerOptions().ConfigPoll;
        async Task PollAsync()
        {
            await clock.AdvanceWhenArmedAsync(poll, "the wait for the poll");
            await clock.WhenArmedAsync(poll, "the wait for the next poll");
        }
        int said(int id) => host.Log.Count(id);
        using var c = _etcd.Server.NewClient();

        await PollAsync();
        Assert.DoesNotContain(host.Log.Entries, e => e.Id.Id is >= 1051 and <= 1054); // unchanged: nothing to say
        await c.PutAsync(o.ConfigKey, """{"Network":"10.20.0.0/16", "Backend":{"Type":"vxlan"}}""");
        await PollAsync();
        Assert.Equal(1, said(1053)); // another text, the same config
        await c.PutAsync(o.ConfigKey, """{"Network":"10.21.0.0/16","Backend":{"Type":"vxlan"}}""");
        await PollAsync();
        var restart = Assert.Single(host.Log.Entries, e => e.Id.Id == 1052).Message;
        Assert.Contains(": Network 10.20.0.0/16 -> 10.21.0.0/16, SubnetMin 10.20.1.0 -> 10.21.1.0,", restart, StringComparison.Ordinal);
        Assert.EndsWith("restart flanneld to apply it; keeping the running config", restart, StringComparison.Ordinal);
        await c.PutAsync(o.ConfigKey, "{");
        await PollAsync();
        Assert.Equal(1, said(1051));
        await c.DeleteAsync(o.ConfigKey);
        await PollAsync();
        await PollAsync(); // still deleted: said once
        Assert.Equal(1, said(1054));
        Assert.Equal([1, 1, 1, 1], new[] { said(1051), said(1052), said(1053), said(1054) });

        await cts.CancelAsync();
        await watching; // ends quietly
    }
}
