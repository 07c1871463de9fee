using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

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
