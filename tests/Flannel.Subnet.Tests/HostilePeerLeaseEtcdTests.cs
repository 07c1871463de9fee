using System.Collections.Concurrent;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>
/// Hostile peer leases against a real etcd, through resyncs on a fake clock: each is warned about once (not again at
/// every listing, nor by both watch loops), never handed to the backend, and a lease that turns bad is withdrawn.
/// </summary>
[NeedsEtcd]
public class HostilePeerLeaseEtcdTests : IClassFixture<EtcdFixture>
{
    private readonly EtcdFixture _etcd;

    public HostilePeerLeaseEtcdTests(EtcdFixture etcd) => _etcd = etcd;

    private static string Vxlan(string ip, string type = "vxlan") =>
        $$$"""{"PublicIP":"{{{ip}}}","PublicIPv6":null,"BackendType":"{{{type}}}","BackendData":{"VNI":1,"VtepMAC":"de:ad:be:ef:00:01"}}""";

    [Fact]
    public async Task Hostile_leases_are_warned_about_once_across_resyncs_and_never_reported()
    {
        var o = _etcd.NewOptions();
        using var c = _etcd.Server.NewClient();
        await c.PutAsync(o.ConfigKey, """{"Network":"10.25.0.0/16","Backend":{"Type":"vxlan"}}""");
        var clock = new ManualClock();
        var options = new LeaseManagerOptions { TimeProvider = clock };
        var resync = options.Watch.ResyncInterval;
        // Both watch loops (the peers' and our own key's) list again at each resync: the next windows are armed after.
        async Task ResyncsAsync(int n)
        {
            for (int i = 0; i < n; i++)
            {
                clock.Advance(resync);
                await clock.WhenArmedAsync(resync, "both watch loops listed again", count: 2);
            }
        }
        using var host = new TestHost(o, "198.51.100.21", options, backendType: "vxlan");
        var own = await host.AcquireAsync();
        string p = o.SubnetsPrefix;
        await c.PutAsync(p + "10.25.201.0-24", "{garbage");
        await c.PutAsync(p + "10.25.202.0-24", Vxlan("2001:db8::1"));
        await c.PutAsync(p + "10.99.1.0-24", Vxlan("198.51.100.22"));
        await c.PutAsync(p + "10.25.204.0-25", Vxlan("198.51.100.23"));
        await c.PutAsync(p + "10.25.205.0-24", Vxlan("198.51.100.21"));
        await c.PutAsync(p + "10.25.206.0-24", Vxlan("198.51.100.24", "ipsec"));
        await c.PutAsync(p + "10.25.207.0-24", Vxlan("198.51.100.25"));

        var seen = new ConcurrentQueue<LeaseEvent>();
        using var cts = new CancellationTokenSource();
        var renewing = host.Manager.RunAsync(cts.Token); // the own-lease watch lists and decodes the same keys
        var watching = host.Manager.WatchPeersAsync((events, _) =>
        {
            foreach (var e in events)
            {
                seen.Enqueue(e);
            }
            return Task.CompletedTask;
        }, cts.Token);
        try
        {
            await Wait.UntilAsync(() => !seen.IsEmpty, TimeSpan.FromSeconds(10), "the good peer reported");
            await clock.WhenArmedAsync(resync, "both watch loops listed", count: 2);
            await ResyncsAsync(10);
            Assert.Equal(2, host.RegistryLog.Count(1001));
            Assert.Equal(4, host.Log.Count(1050));
            var added = Assert.Single(seen);
            Assert.Equal("10.25.207.0-24", added.Lease.Key.ToString());
            Assert.NotEqual(own.Key, added.Lease.Key);

            // The good peer turns bad (its PublicIP becomes ours): withdrawn, and warned about once.
            await c.PutAsync(p + "10.25.207.0-24", Vxlan("198.51.100.21"));
            await Wait.UntilAsync(() => seen.Count == 2, TimeSpan.FromSeconds(10), "the peer withdrawn");
            Assert.Equal(LeaseEventKind.Removed, seen.Last().Kind);
            await ResyncsAsync(3);
            Assert.Equal(5, host.Log.Count(1050));
            Assert.Equal(2, seen.Count);
        }
        finally
        {
            await cts.CancelAsync();
            await watching;
            try
            {
                await renewing;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
