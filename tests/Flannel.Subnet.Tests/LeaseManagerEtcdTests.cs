using System.Diagnostics;
using Etcdserverpb;
using Flannel.Subnet.Leases;
using Xunit.Abstractions;

namespace Flannel.Subnet.Tests;

/// <summary>The lease manager against a real etcd (Debian's etcd-server).</summary>
[NeedsEtcd]
public class LeaseManagerEtcdTests : IClassFixture<EtcdFixture>
{
    private readonly EtcdFixture _etcd;
    private readonly ITestOutputHelper _out;

    public LeaseManagerEtcdTests(EtcdFixture etcd, ITestOutputHelper output)
    {
        _etcd = etcd;
        _out = output;
    }


    [Fact]
    public async Task Acquire_writes_flanneld_json_attached_to_a_24h_etcd_lease()
    {
        var o = await _etcd.NewNetworkAsync();
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
        var o = await _etcd.NewNetworkAsync();
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
        var o = await _etcd.NewNetworkAsync();
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
        var o = await _etcd.NewNetworkAsync();
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
        var o = await _etcd.NewNetworkAsync("""{"Network":"10.21.0.0/23","SubnetLen":28,"Backend":{"Type":"udp"}}""");
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
        var o = await _etcd.NewNetworkAsync("""{"Network":"10.22.0.0/28","Backend":{"Type":"udp"}}""");
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
