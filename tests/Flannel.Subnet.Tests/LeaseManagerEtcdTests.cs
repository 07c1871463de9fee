using System.Diagnostics;
using Etcdserverpb;
using Flannel.Subnet.Leases;
using Xunit.Abstractions;

namespace Flannel.Subnet.Tests;

/// <summary>The lease manager against a real etcd (Debian's etcd-server).</summary>
[NeedsEtcd]
public class LeaseManagerEtcdTests : IClassFixture<EtcdFixture>
{
    private const string Config = """{"Network":"10.20.0.0/16","Backend":{"Type":"vxlan"}}""";
    private readonly EtcdFixture _etcd;
    private readonly ITestOutputHelper _out;

    public LeaseManagerEtcdTests(EtcdFixture etcd, ITestOutputHelper output)
    {
        _etcd = etcd;
        _out = output;
    }

    private async Task<Etcd.EtcdOptions> NewNetworkAsync(string config = Config)
    {
        var o = _etcd.NewOptions();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.ConfigKey, config);
        return o;
    }

    [Fact]
    public async Task Acquire_writes_flanneld_json_attached_to_a_24h_etcd_lease()
    {
        var o = await NewNetworkAsync();
        using var host = new TestHost(o, "198.51.100.11", backendType: "host-gw");
        var sw = Stopwatch.StartNew();
        var lease = await host.AcquireAsync();
        _out.WriteLine($"lease acquisition against local etcd: {sw.Elapsed.TotalMilliseconds:F1} ms (first call, includes channel set-up)");

        using var c = _etcd.Server.NewClient();
        var kv = Assert.Single((await c.GetRangeAsync(o.SubnetsPrefix)).Kvs);
        Assert.Equal(o.SubnetsPrefix + lease.Key, kv.Key.ToStringUtf8());
        Assert.Equal("""{"PublicIP":"198.51.100.11","PublicIPv6":null,"BackendType":"host-gw"}""", kv.Value.ToStringUtf8());
        var ttl = await c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kv.Lease });
        Assert.InRange(ttl.GrantedTTL, 86400, 86400);
        Assert.InRange(ttl.TTL, 86390, 86400);
        Assert.Equal(24, lease.Key.Subnet.PrefixLength);
        Assert.True(lease.Key.Subnet.Ip.Value >= 0x0A140100 && lease.Key.Subnet.Ip.Value <= 0x0A14FF00);

        // A second acquisition on the warm connection is the steady-state figure.
        using var host2 = new TestHost(o, "198.51.100.12");
        await host2.AcquireAsync();
        sw.Restart();
        using var host3 = new TestHost(o, "198.51.100.13");
        await host3.AcquireAsync();
        _out.WriteLine($"lease acquisition (third host, includes its own connection set-up): {sw.Elapsed.TotalMilliseconds:F1} ms");
        // The manager's own figure: list + create transaction on a connection that has already read the config.
        _out.WriteLine("warm: " + host3.Log.Entries.Single(e => e.Id.Id == 1022).Message);
    }

    [Fact]
    public async Task Restart_with_the_same_public_ip_reuses_the_subnet()
    {
        var o = await NewNetworkAsync();
        SubnetKey first;
        using (var host = new TestHost(o, "198.51.100.21"))
        {
            first = (await host.AcquireAsync()).Key;
        }
        using var again = new TestHost(o, "198.51.100.21");
        var lease = await again.AcquireAsync();
        Assert.Equal(first, lease.Key);
        Assert.Equal(1, again.Log.Count(1020)); // "Found lease ... reusing"
        using var c = _etcd.Server.NewClient();
        Assert.Single((await c.GetRangeAsync(o.SubnetsPrefix)).Kvs);
    }

    [Fact]
    public async Task An_incompatible_lease_for_our_ip_is_deleted_and_replaced()
    {
        var o = await NewNetworkAsync();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.SubnetsPrefix + "10.99.1.0-24", """{"PublicIP":"198.51.100.22","PublicIPv6":null}""");
        using var host = new TestHost(o, "198.51.100.22");
        var lease = await host.AcquireAsync();
        Assert.NotEqual("10.99.1.0-24", lease.Key.ToString());
        var keys = (await c.GetRangeAsync(o.SubnetsPrefix)).Kvs.Select(k => k.Key.ToStringUtf8()).ToList();
        Assert.Equal([o.SubnetsPrefix + lease.Key], keys);
    }

    [Fact]
    public async Task Previous_subnet_from_the_subnet_file_is_taken_again_when_free()
    {
        var o = await NewNetworkAsync();
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "FLANNEL_NETWORK=10.20.0.0/16\nFLANNEL_SUBNET=10.20.77.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
            using var host = new TestHost(o, "198.51.100.31");
            var lease = await host.AcquireAsync(SubnetFile.ReadPrevious(file));
            Assert.Equal("10.20.77.0-24", lease.Key.ToString());

            // Held by someone else: another host with the same previous subnet gets a different one.
            using var other = new TestHost(o, "198.51.100.32");
            var second = await other.AcquireAsync(SubnetFile.ReadPrevious(file));
            Assert.NotEqual("10.20.77.0-24", second.Key.ToString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Twenty_managers_racing_on_one_etcd_get_twenty_distinct_subnets()
    {
        // A /23 cut into /28s has 31 candidates: twenty hosts choosing at once collide often and must retry.
        var o = await NewNetworkAsync("""{"Network":"10.21.0.0/23","SubnetLen":28,"Backend":{"Type":"udp"}}""");
        var hosts = Enumerable.Range(1, 20).Select(i => new TestHost(o, $"198.51.100.{100 + i}")).ToList();
        try
        {
            var sw = Stopwatch.StartNew();
            var leases = await Task.WhenAll(hosts.Select(h => h.AcquireAsync()));
            int races = hosts.Sum(h => h.Log.Count(1023));
            _out.WriteLine($"20 racing managers: {leases.Select(l => l.Key).Distinct().Count()} distinct subnets in {sw.ElapsedMilliseconds} ms, {races} lost races retried");
            Assert.Equal(20, leases.Select(l => l.Key).Distinct().Count());
            using var c = _etcd.Server.NewClient();
            Assert.Equal(20, (await c.GetRangeAsync(o.SubnetsPrefix)).Kvs.Count);
        }
        finally
        {
            hosts.ForEach(h => h.Dispose());
        }
    }

    [Fact]
    public async Task Out_of_subnets_is_a_clear_error()
    {
        var o = await NewNetworkAsync("""{"Network":"10.22.0.0/28","Backend":{"Type":"udp"}}""");
        var hosts = Enumerable.Range(1, 4).Select(i => new TestHost(o, $"198.51.100.{40 + i}")).ToList();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                await hosts[i].AcquireAsync();
            }
            var e = await Assert.ThrowsAsync<LeaseAcquisitionException>(() => hosts[3].AcquireAsync());
            Assert.StartsWith("out of subnets", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            hosts.ForEach(h => h.Dispose());
        }
    }

    [Fact]
    public async Task Renewal_moves_the_key_to_a_fresh_etcd_lease_and_revokes_the_old_one()
    {
        var o = await NewNetworkAsync();
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
            await c.PutAsync(o.ConfigKey, Config);
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
        var o = await NewNetworkAsync();
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
        var o = await NewNetworkAsync();
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

    [Fact]
    public async Task The_first_peer_listing_is_handed_over_even_when_there_are_no_peers()
    {
        var o = _etcd.NewOptions();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.ConfigKey, """{"Network":"10.24.0.0/16","Backend":{"Type":"vxlan"}}""");
        var clock = new ManualClock();
        using var host = new TestHost(o, "198.51.100.73", new LeaseManagerOptions { TimeProvider = clock });
        await host.AcquireAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var batches = new List<int>();
        var first = new TaskCompletionSource();
        var watching = host.Manager.WatchPeersAsync((events, _) =>
        {
            lock (batches)
            {
                batches.Add(events.Count);
            }
            first.TrySetResult();
            return Task.CompletedTask;
        }, cts.Token);
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // A resync lists again: nothing changed, so nothing more is handed over.
        var resync = new LeaseWatchOptions().ResyncInterval;
        await clock.AdvanceWhenArmedAsync(resync, "the resync window");
        await clock.WhenArmedAsync(resync, "the next resync window, after the second listing");
        await cts.CancelAsync();
        await watching;
        Assert.Equal([0], batches); // our own lease is not a peer; one empty batch, no more
    }

    [Fact]
    public async Task A_lasting_config_problem_is_logged_again_after_the_repeat_interval()
    {
        var o = _etcd.NewOptions();
        // The daemon's timing (a retry every second, the problem logged again every 30 s) on a fake clock.
        var clock = new ManualClock();
        using var host = new TestHost(o, "198.51.100.72", new LeaseManagerOptions { TimeProvider = clock });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var waiting = host.Manager.WaitForConfigAsync(cts.Token);
        var logged = new List<int>(); // after each second
        await clock.WhenArmedAsync(TimeSpan.FromSeconds(1), "the first retry's wait");
        for (int second = 1; second <= 61; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await clock.WhenArmedAsync(TimeSpan.FromSeconds(1), $"the wait after retry {second}");
            logged.Add(host.Log.Count(1010));
        }
        // 61 retries, three lines: at the start, after 30 s and after 60 s.
        Assert.Equal(1, logged[28]);
        Assert.Equal(2, logged[29]);
        Assert.Equal(2, logged[58]);
        Assert.Equal(3, logged[59]);
        Assert.Equal(3, logged[60]);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Config_missing_is_waited_for_with_a_v3_hint_then_picked_up()
    {
        var o = _etcd.NewOptions();
        var clock = new ManualClock();
        using var host = new TestHost(o, "198.51.100.71", new LeaseManagerOptions { TimeProvider = clock });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var waiting = host.Manager.WaitForConfigAsync(cts.Token);
        var retry = TimeSpan.FromSeconds(1);
        async Task RetriesAsync(int n)
        {
            for (int i = 0; i < n; i++)
            {
                await clock.AdvanceWhenArmedAsync(retry, "the retry's wait");
            }
            await clock.WhenArmedAsync(retry, "the wait after the last retry");
        }
        await RetriesAsync(5);
        Assert.False(waiting.IsCompleted);
        var missing = Assert.Single(host.Log.Entries, e => e.Id.Id == 1010); // logged once, not every retry
        Assert.Contains("v3", missing.Message, StringComparison.Ordinal);
        Assert.Contains("etcdctl set", missing.Message, StringComparison.Ordinal);

        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.ConfigKey, """{"Network":"10.23.0.0/33","Backend":{"Type":"vxlan"}}""");
        await RetriesAsync(5);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, host.Log.Count(1011)); // logged once per distinct problem
        Assert.Contains("Network \"10.23.0.0/33\" is not a valid IPv4 network (CIDR): the prefix length after '/' must be a number from 0 to 32", host.Log.ToString(), StringComparison.Ordinal);

        await c.PutAsync(o.ConfigKey, """{"Network":"10.23.0.0/16"}""");
        clock.Advance(retry);
        var config = await waiting;
        Assert.Equal("udp", config.BackendType);
        Assert.Equal(1, host.Log.Count(1012)); // the udp fallback warning
        Assert.Equal("10.23.0.0/16", config.Network.ToString());
    }
}

[NeedsEtcd]
public class LeaseManagerConnectionTests
{
    [Fact]
    public async Task Peers_are_watched_without_our_own_lease_and_logged()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var o = new Etcd.EtcdOptions { Endpoints = [etcd.Endpoint] };
        using (var c = etcd.NewClient())
        {
            await c.PutAsync(o.ConfigKey, """{"Network":"10.24.0.0/16","Backend":{"Type":"host-gw"}}""");
        }
        using var a = new TestHost(o, "198.51.100.91", backendType: "host-gw");
        using var b = new TestHost(o, "198.51.100.92", backendType: "host-gw");
        var leaseA = await a.AcquireAsync();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<LeaseEvent>();
        using var cts = new CancellationTokenSource();
        var watching = a.Manager.WatchPeersAsync((events, _) =>
        {
            foreach (var e in events)
            {
                seen.Enqueue(e);
            }
            return Task.CompletedTask;
        }, cts.Token);
        try
        {
            var leaseB = await b.AcquireAsync();
            await Wait.UntilAsync(() => seen.Any(e => e.Lease.Key == leaseB.Key), TimeSpan.FromSeconds(10), "peer B seen by A");
            using (var c = etcd.NewClient())
            {
                await c.DeleteAsync(o.SubnetKeyPath(leaseB.Key));
            }
            await Wait.UntilAsync(() => seen.Any(e => e.Kind == LeaseEventKind.Removed), TimeSpan.FromSeconds(10), "peer B removed");
            Assert.DoesNotContain(seen, e => e.Lease.Key == leaseA.Key);
            Assert.Equal(1, a.Log.Count(1040));
            Assert.Equal(1, a.Log.Count(1041));
        }
        finally
        {
            await cts.CancelAsync();
            await watching;
        }
    }

    [Fact]
    public async Task A_dead_endpoint_in_the_list_does_not_stop_the_manager()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var o = new Etcd.EtcdOptions { Endpoints = [$"http://127.0.0.1:{EtcdServer.FreePort()}", etcd.Endpoint] };
        using (var c = etcd.NewClient())
        {
            await c.PutAsync(o.ConfigKey, """{"Network":"10.25.0.0/16","Backend":{"Type":"udp"}}""");
        }
        using var host = new TestHost(o, "198.51.100.93");
        var lease = await host.AcquireAsync();
        Assert.Equal(24, lease.Key.Subnet.PrefixLength);
        Assert.True(Ip.Ip4Network.ParseCidr("10.25.0.0/16").Contains(lease.Key.Subnet));
    }

    [Fact]
    public async Task Etcd_username_and_password_authentication()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using (var c = etcd.NewClient())
        {
            await c.PutAsync("/coreos.com/network/config", """{"Network":"10.26.0.0/16","Backend":{"Type":"udp"}}""");
            await c.GetConnection().AuthClient.UserAddAsync(new Etcdserverpb.AuthUserAddRequest { Name = "root", Password = "s3cret" });
            await c.GetConnection().AuthClient.UserGrantRoleAsync(new Etcdserverpb.AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await c.GetConnection().AuthClient.AuthEnableAsync(new Etcdserverpb.AuthEnableRequest());
        }
        var good = new Etcd.EtcdOptions { Endpoints = [etcd.Endpoint], Username = "root", Password = "s3cret" };
        using var host = new TestHost(good, "198.51.100.94");
        var lease = await host.AcquireAsync();
        using var cts = new CancellationTokenSource();
        var seen = new TaskCompletionSource<LeaseEvent>();
        var watching = host.Manager.WatchPeersAsync((events, _) =>
        {
            if (events.Count > 0) // the first listing comes even when empty
            {
                seen.TrySetResult(events[0]);
            }
            return Task.CompletedTask;
        }, cts.Token);
        try
        {
            using var other = new TestHost(good, "198.51.100.95");
            await other.AcquireAsync();
            Assert.Equal(LeaseEventKind.Added, (await seen.Task.WaitAsync(TimeSpan.FromSeconds(10))).Kind);
        }
        finally
        {
            await cts.CancelAsync();
            await watching;
        }

        // Without credentials etcd refuses: the config cannot be read, and the etcd layer says why in its own terms.
        using var anonymous = new TestHost(new Etcd.EtcdOptions { Endpoints = [etcd.Endpoint] }, "198.51.100.96");
        var refused = await Assert.ThrowsAsync<Etcd.EtcdAccessDeniedException>(() => anonymous.Registry.GetNetworkConfigAsync(CancellationToken.None));
        Assert.False(refused.IsTransient);
        Assert.EndsWith("user name is empty", refused.Message, StringComparison.Ordinal);
        Assert.NotEqual(default, lease.Key);
    }
}
