using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Flannel.Backends;
using Flannel.Daemon.Metrics;

namespace Flannel.Daemon.Tests.Metrics;

[Unit]
public partial class MetricsCollectorTests
{
    // One exposition line: a comment, or name{labels} value (Prometheus text format 0.0.4).
    [GeneratedRegex("""^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN))$""")]
    private static partial Regex ExpositionLine();

    /// <summary>Checks every line of an exposition against the text format; returns the lines.</summary>
    public static string[] AssertWellFormed(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = text.TrimEnd('\n').Split('\n');
        foreach (var line in lines)
        {
            Assert.Matches(ExpositionLine(), line);
        }
        return lines;
    }

    [Fact]
    public void Counters_gauges_and_histograms_render_in_the_prometheus_text_format()
    {
        string prefix = "Flannel.Test" + Guid.NewGuid().ToString("N") + ".";
        using var meter = new Meter(prefix + "m");
        using var collector = new MetricsCollector(prefix);
        var renewals = meter.CreateCounter<long>("flannel_lease_renewals", description: "Renewals");
        var latency = meter.CreateHistogram("flannel_etcd_request_duration", unit: "s", description: "Latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1] });
        int peers = 3;
        meter.CreateObservableGauge("flannel_peer_leases", () => peers, description: "Peers");
        meter.CreateObservableCounter("flannel_udp_bytes", () => 1234L, unit: "By", description: "Bytes");

        renewals.Add(1, new KeyValuePair<string, object?>("result", "ok"));
        renewals.Add(2, new KeyValuePair<string, object?>("result", "ok"));
        renewals.Add(1, new KeyValuePair<string, object?>("result", "fa\"il\\ed\n"));
        latency.Record(0.005, new KeyValuePair<string, object?>("op", "Get"));
        latency.Record(0.05, new KeyValuePair<string, object?>("op", "Get"));
        latency.Record(7, new KeyValuePair<string, object?>("op", "Get"));

        string text = collector.Render();
        AssertWellFormed(text);
        Assert.Equal("""
            # HELP flannel_etcd_request_duration_seconds Latency
            # TYPE flannel_etcd_request_duration_seconds histogram
            flannel_etcd_request_duration_seconds_bucket{op="Get",le="0.01"} 1
            flannel_etcd_request_duration_seconds_bucket{op="Get",le="0.1"} 2
            flannel_etcd_request_duration_seconds_bucket{op="Get",le="+Inf"} 3
            flannel_etcd_request_duration_seconds_sum{op="Get"} 7.055
            flannel_etcd_request_duration_seconds_count{op="Get"} 3
            # HELP flannel_lease_renewals_total Renewals
            # TYPE flannel_lease_renewals_total counter
            flannel_lease_renewals_total{result="fa\"il\\ed\n"} 1
            flannel_lease_renewals_total{result="ok"} 3
            # HELP flannel_peer_leases Peers
            # TYPE flannel_peer_leases gauge
            flannel_peer_leases 3
            # HELP flannel_udp_bytes_total Bytes
            # TYPE flannel_udp_bytes_total counter
            flannel_udp_bytes_total 1234

            """.Replace("\r\n", "\n", StringComparison.Ordinal), text);

        // observable values are read again at each scrape
        peers = 5;
        Assert.Contains("flannel_peer_leases 5\n", collector.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Meters_outside_the_prefix_are_not_exported()
    {
        string prefix = "Flannel.Test" + Guid.NewGuid().ToString("N") + ".";
        using var other = new Meter("Other" + Guid.NewGuid().ToString("N"));
        using var collector = new MetricsCollector(prefix);
        other.CreateCounter<long>("not_ours").Add(1);
        Assert.DoesNotContain("not_ours", collector.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Recording_a_pump_batch_size_allocates_nothing_while_metrics_are_collected()
    {
        using var collector = new MetricsCollector();
        BackendMetrics.TunBatch.Record(1); // first use: static set-up
        BackendMetrics.WireBatch.Record(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            BackendMetrics.TunBatch.Record(i & 63);
            BackendMetrics.WireBatch.Record(i & 31);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        string text = collector.Render();
        Assert.Contains("flannel_udp_tun_to_wire_batch_packets_bucket{le=\"1\"}", text, StringComparison.Ordinal);
        Assert.Matches("flannel_udp_tun_to_wire_batch_packets_count [0-9]{6}", text);
    }
}
