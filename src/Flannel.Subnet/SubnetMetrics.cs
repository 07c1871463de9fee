using System.Diagnostics.Metrics;

namespace Flannel.Subnet;

/// <summary>
/// The lease and etcd side's instruments (System.Diagnostics.Metrics; the daemon's /metrics exports every meter whose
/// name starts with "Flannel."). Names follow Prometheus conventions; counters get <c>_total</c> when exported.
/// </summary>
internal static class SubnetMetrics
{
    public const string MeterName = "Flannel.Subnet";

    private static readonly Meter Meter = new(MeterName);
    private static long s_peers;

    private static readonly Counter<long> Renewals = Meter.CreateCounter<long>(
        "flannel_lease_renewals", description: "Renewals of our subnet lease, by result (ok, failed)");

    private static readonly Counter<long> Reacquisitions = Meter.CreateCounter<long>(
        "flannel_lease_reacquisitions", description: "Times our lease disappeared from etcd and was acquired again");

    private static readonly Counter<long> WatchRestarts = Meter.CreateCounter<long>(
        "flannel_watch_restarts", description: "Restarts of the peer lease watch, by reason (error, compacted)");

    private static readonly Histogram<double> EtcdLatency = Meter.CreateHistogram(
        "flannel_etcd_request_duration", unit: "s", description: "Latency of etcd requests, by operation and result",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    static SubnetMetrics()
    {
        Meter.CreateObservableGauge("flannel_peer_leases", () => Volatile.Read(ref s_peers),
            description: "Peer leases accepted from etcd (valid ones, our own excluded)");
    }

    public static void Renewed(bool ok) => Renewals.Add(1, new KeyValuePair<string, object?>("result", ok ? "ok" : "failed"));

    public static void Reacquired() => Reacquisitions.Add(1);

    public static void WatchRestarted(string reason) => WatchRestarts.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void PeerLeases(int count) => Volatile.Write(ref s_peers, count);

    public static void EtcdRequest(string operation, double seconds, bool ok) =>
        EtcdLatency.Record(seconds, new KeyValuePair<string, object?>("op", operation), new KeyValuePair<string, object?>("result", ok ? "ok" : "error"));
}
