using System.Globalization;
using Flannel.Daemon.Tests.Metrics;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// /metrics of the published daemon (udp backend, two hosts): well-formed Prometheus text whose figures follow what
/// happens — packets and bytes per direction, a no-route drop, the peer gauges, batch sizes, etcd latency, a repaired
/// route, a re-acquired lease and a renewal (renew margin 1439 min: the first renewal is due a minute after start).
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class MetricsEndToEndTests(ITestOutputHelper output)
{
    private const int Port = 10256;

    [Fact]
    public async Task Metrics_follow_traffic_drops_repairs_and_lease_events()
    {
        await using var bed = await Testbed.CreateAsync();
        var (_, prefix, h1, _, d1, d2, env1, _, c1, _, _, a2) = await TwoHosts.StartAsync(bed, "/metrics/network", "udp", "10.97.0.0/16",
            ["--healthz-ip", "127.0.0.1", "--healthz-port", Port.ToString(CultureInfo.InvariantCulture), "--subnet-lease-renew-margin", "1439"]);
        await Wait.UntilAsync(() => Value(Scrape(h1), "flannel_backend_peers", "backend=\"udp\"") == 1, TimeSpan.FromSeconds(20), "one udp peer");

        Assert.True(Testbed.Ping(c1, a2, count: 20), "c1 -> c2");
        string text = Scrape(h1);
        output.WriteLine(text);
        MetricsCollectorTests.AssertWellFormed(text);
        Assert.Contains("# TYPE flannel_udp_packets_total counter", text, StringComparison.Ordinal);
        Assert.InRange(Value(text, "flannel_udp_packets_total", "direction=\"tun_to_wire\""), 20, 1000);
        Assert.InRange(Value(text, "flannel_udp_packets_total", "direction=\"wire_to_tun\""), 20, 1000);
        Assert.InRange(Value(text, "flannel_udp_bytes_total", "direction=\"tun_to_wire\""), 20 * 84, 1_000_000);
        Assert.Equal(1, Value(text, "flannel_peer_leases", ""));
        Assert.True(Value(text, "flannel_udp_tun_to_wire_batch_packets_count", "") >= 20);
        Assert.True(Value(text, "flannel_udp_wire_to_tun_batch_datagrams_count", "") >= 20);
        Assert.True(Value(text, "flannel_etcd_request_duration_seconds_count", "op=\"GetNetworkConfig\",result=\"ok\"") >= 1);
        Assert.Equal(0, Value(text, "flannel_udp_drops_total", "direction=\"tun_to_wire\",reason=\"no-route\""));

        // a destination in the network that no host holds: three UDP datagrams dropped as no-route, each answered with
        // an ICMP net-unreachable (flanneld answers no ICMP with ICMP, so ping would not count here)
        for (int i = 0; i < 3; i++)
        {
            Testbed.Exec(c1, ["bash", "-c", "echo probe > /dev/udp/10.97.250.9/9"]);
        }
        await Wait.UntilAsync(() => Value(Scrape(h1), "flannel_udp_drops_total", "direction=\"tun_to_wire\",reason=\"no-route\"") == 3,
            TimeSpan.FromSeconds(5), "three no-route drops");
        Assert.Equal(3, Value(Scrape(h1), "flannel_udp_icmp_unreachable_sent_total", "direction=\"tun_to_wire\""));

        // the network route removed: the 10 s reconcile puts it back and counts the repair
        Testbed.Ip(h1, "route", "del", "10.97.0.0/16", "dev", "flannel0");
        await Wait.UntilAsync(() => Value(Scrape(h1), "flannel_reconcile_repairs_total", "backend=\"udp\",kind=\"route\"") == 1,
            TimeSpan.FromSeconds(25), "route repair counted");

        // our key deleted: taken back and counted
        string key = prefix + "/subnets/" + TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]).Replace('/', '-');
        bed.Etcdctl(true, "del", key);
        await Wait.UntilAsync(() => Value(Scrape(h1), "flannel_lease_reacquisitions_total", "") == 1, TimeSpan.FromSeconds(20),
            "re-acquisition counted");

        // the first renewal of the re-acquired lease, a minute later
        await Wait.UntilAsync(() => Value(Scrape(h1), "flannel_lease_renewals_total", "result=\"ok\"") >= 1, TimeSpan.FromSeconds(100),
            "renewal counted");
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    private static double Value(string text, string name, string labels) => HealthHttp.Value(text, name, labels);

    private static string Scrape(string hostNs) => HealthHttp.Metrics(hostNs, Port);
}
