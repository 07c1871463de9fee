using System.Collections.Concurrent;
using Flannel.Subnet.Leases;
using Flannel.TestSupport;

namespace Flannel.Subnet.Tests;

/// <summary>
/// Hostile peer leases against a real etcd, with a resync every 200 ms: each is warned about once (not again at every
/// listing, nor by both watch loops), never handed to the backend, and a lease that turns bad is withdrawn.
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
        var rounds = new LoopRounds();
        var options = new LeaseManagerOptions
        {
            Watch = new LeaseWatchOptions { ResyncInterval = TimeSpan.FromMilliseconds(200) },
            Health = rounds,
        };
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
            await rounds.ResyncsAsync(5);
            Assert.Equal(2, host.RegistryLog.Count(1001));
            Assert.Equal(4, host.Log.Count(1050));
            var added = Assert.Single(seen);
            Assert.Equal("10.25.207.0-24", added.Lease.Key.ToString());
            Assert.NotEqual(own.Key, added.Lease.Key);

            // The good peer turns bad (its PublicIP becomes ours): withdrawn, and warned about once.
            await c.PutAsync(p + "10.25.207.0-24", Vxlan("198.51.100.21"));
            await Wait.UntilAsync(() => seen.Count == 2, TimeSpan.FromSeconds(10), "the peer withdrawn");
            Assert.Equal(LeaseEventKind.Removed, seen.Last().Kind);
            await rounds.ResyncsAsync(5);
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

    /// <summary>
    /// Counts the rounds of the two watch loops (each reports its health after every listing and every watch response),
    /// so a test can wait for resyncs to have happened instead of for a time that may hold fewer on a busy machine.
    /// </summary>
    private sealed class LoopRounds : ILoopHealth
    {
        private readonly ConcurrentDictionary<string, int> _rounds = new(StringComparer.Ordinal);

        public void Report(string loopName, TimeSpan bound) => _rounds.AddOrUpdate(loopName, 1, (_, n) => n + 1);

        /// <summary>Waits until both watch loops have listed <paramref name="count"/> more times (no writes meanwhile).</summary>
        public Task ResyncsAsync(int count)
        {
            int peer = _rounds.GetValueOrDefault("peer-watch"), own = _rounds.GetValueOrDefault("own-lease-watch");
            return Wait.UntilAsync(() => _rounds.GetValueOrDefault("peer-watch") >= peer + count &&
                _rounds.GetValueOrDefault("own-lease-watch") >= own + count, TimeSpan.FromSeconds(20), $"{count} more resyncs of both watch loops");
        }
    }
}
