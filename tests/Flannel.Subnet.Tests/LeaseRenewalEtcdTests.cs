using Etcdserverpb;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>Keeping our lease: renewal on a fake clock and the own-lease guard, against a real etcd.</summary>
[NeedsEtcd]
public class LeaseRenewalEtcdTests : IClassFixture<EtcdFixture>
{
    private readonly EtcdFixture _etcd;

    public LeaseRenewalEtcdTests(EtcdFixture etcd) => _etcd = etcd;


    [Fact]
    public async Task Renewal_moves_the_key_to_a_fresh_etcd_lease_and_revokes_the_old_one()
    {
        var o = await _etcd.NewNetworkAsync();
        // Renewal due 20 min after each write (1 h TTL, 40 min margin), on a fake clock: no real wait.
        var clock = new ManualClock();
        var options = new LeaseManagerOptions { LeaseTtl = TimeSpan.FromHours(1), RenewMargin = TimeSpan.FromMinutes(40), TimeProvider = clock };
        using var host = new TestHost(o, "198.51.100.51", options);
        var lease = await host.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var run = host.Manager.RunAsync(cts.Token);
        try
        {
            using var c = _etcd.Server.NewClient();
            await clock.WhenArmedAsync(TimeSpan.FromMinutes(20), "the wait for the first renewal");
            clock.Advance(TimeSpan.FromMinutes(19));
            Assert.Equal(0, host.Log.Count(1025)); // not due yet
            await clock.AdvanceWhenArmedAsync(TimeSpan.FromMinutes(1), "the rest of the wait");
            await Wait.UntilAsync(() => host.Log.Count(1025) == 1, TimeSpan.FromSeconds(10), "the first renewal");
            var first = host.Manager.Current!;
            await clock.AdvanceWhenArmedAsync(TimeSpan.FromMinutes(20), "the wait for the second renewal");
            await Wait.UntilAsync(() => host.Log.Count(1025) == 2, TimeSpan.FromSeconds(10), "the second renewal");

            var kv = Assert.Single((await c.GetAsync(o.SubnetsPrefix + lease.Key)).Kvs);
            Assert.Equal(host.Manager.Current!.EtcdLeaseId, kv.Lease);
            Assert.NotEqual(first.EtcdLeaseId, kv.Lease);
            var ttl = await c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kv.Lease });
            Assert.Equal(3600, ttl.GrantedTTL); // a fresh etcd lease of the full TTL
            var all = await c.LeaseLeasesAsync(new LeaseLeasesRequest());
            Assert.DoesNotContain(all.Leases, l => l.ID == lease.EtcdLeaseId || l.ID == first.EtcdLeaseId); // the old ones revoked
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_renewal_meeting_a_frozen_etcd_is_retried_quickly_then_after_the_renew_retry()
    {
        // An etcd of its own: this test freezes it (SIGSTOP), which must not stall the other tests of the class.
        await using var etcd = await EtcdServer.StartAsync();
        var o = new Etcd.EtcdOptions { Endpoints = [etcd.Endpoint], Prefix = $"/test-{Guid.NewGuid():N}/network" };
        using (var c = etcd.NewClient())
        {
            await c.PutAsync(o.ConfigKey, EtcdFixture.DefaultConfig);
        }
        // The daemon's own timing (renewal 23 h after acquisition, each attempt bounded to 15 s, quick retries after
        // 1, 3 and 10 s, then the 1 min renew retry) on a fake clock: each wait is skipped the moment it begins.
        var clock = new ManualClock();
        var defaults = new LeaseManagerOptions();
        using var host = new TestHost(o, "198.51.100.52", defaults with { TimeProvider = clock });
        var lease = await host.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var run = host.Manager.RunAsync(cts.Token);
        string pid = etcd.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await clock.WhenArmedAsync(defaults.LeaseTtl - defaults.RenewMargin, "the wait for the renewal");
            Command.Run("kill", "-STOP", pid);
            clock.Advance(defaults.LeaseTtl - defaults.RenewMargin);
            foreach (var quick in defaults.RenewQuickRetries)
            {
                await clock.AdvanceWhenArmedAsync(defaults.RenewAttemptTimeout, "the bound of a renewal attempt");
                await clock.AdvanceWhenArmedAsync(quick, "a quick retry's wait");
            }
            await clock.AdvanceWhenArmedAsync(defaults.RenewAttemptTimeout, "the bound of the last attempt");
            await clock.WhenArmedAsync(defaults.RenewRetry, "the renew retry's wait");
            Assert.Equal(1, host.Log.Count(1026)); // the renewal counted as failed
            Assert.Equal(0, host.Log.Count(1025));
            Command.Run("kill", "-CONT", pid);
            clock.Advance(defaults.RenewRetry);
            await Wait.UntilAsync(() => host.Log.Count(1025) == 1, TimeSpan.FromSeconds(15), "the renewal after the renew retry");
            var ids = host.Log.Entries.Select(e => e.Id.Id).Where(id => id is 1025 or 1026 or 1030).ToList();
            Assert.Equal([1030, 1030, 1030, 1026, 1025], ids);
            Assert.All(host.Log.Entries.Where(e => e.Id.Id is 1026 or 1030),
                e => Assert.Contains("no answer from etcd within 15 s", e.Message, StringComparison.Ordinal));
            using var c = etcd.NewClient();
            var kv = Assert.Single((await c.GetAsync(o.SubnetsPrefix + lease.Key)).Kvs);
            Assert.NotEqual(lease.EtcdLeaseId, kv.Lease);
        }
        finally
        {
            Command.TryRun("kill", "-CONT", pid);
            await cts.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task Our_key_deleted_is_reacquired_with_the_same_subnet()
    {
        var o = await _etcd.NewNetworkAsync();
        var health = new HealthRecorder();
        using var host = new TestHost(o, "198.51.100.61", new LeaseManagerOptions { Health = health, TimeProvider = new ManualClock() });
        var lease = await host.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var run = host.Manager.RunAsync(cts.Token);
        try
        {
            using var c = _etcd.Server.NewClient();
            await Wait.UntilAsync(() => health.Count("own-lease-watch") > 0, TimeSpan.FromSeconds(10), "the own-lease watch's first listing");
            await c.DeleteAsync(o.SubnetsPrefix + lease.Key);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var back = await host.Manager.Reacquired.ReadAsync(wait.Token);
            Assert.Equal(lease.Key, back.Key);
            var kv = Assert.Single((await c.GetAsync(o.SubnetsPrefix + lease.Key)).Kvs);
            Assert.Equal(host.Attrs.ToJson(), kv.Value.ToStringUtf8());
            Assert.Equal(1, host.Log.Count(1027));
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task An_expired_etcd_lease_is_reacquired()
    {
        var o = await _etcd.NewNetworkAsync();
        // No renewal (due after the TTL, on a fake clock that stays put): the etcd lease runs out, as after a long
        // outage. etcd's own clock is real: 2 s is the shortest TTL it grants with its default election timing.
        var options = new LeaseManagerOptions { LeaseTtl = TimeSpan.FromSeconds(2), RenewMargin = TimeSpan.FromSeconds(-60), TimeProvider = new ManualClock() };
        using var host = new TestHost(o, "198.51.100.62", options);
        var lease = await host.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var run = host.Manager.RunAsync(cts.Token);
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var back = await host.Manager.Reacquired.ReadAsync(wait.Token);
            Assert.Equal(lease.Key, back.Key);
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }
}
