using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Flannel.Backends.Udp;

namespace Flannel.Backends;

/// <summary>
/// The backends' instruments. The udp pump's packet, byte and drop figures are the counters its threads already keep
/// (plain increments); they are read only when metrics are collected, so the packet path pays nothing more. Batch
/// sizes are recorded once per batch, never per packet.
/// </summary>
internal static class BackendMetrics
{
    public const string MeterName = "Flannel.Backends";
    public const string TunToWire = "tun_to_wire";
    public const string WireToTun = "wire_to_tun";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<UdpPump, byte> Pumps = new();
    private static readonly ConcurrentDictionary<string, int> Peers = new(StringComparer.Ordinal);

    // Up to 2048: a TUN-side batch is 16 reads of up to 128 TSO segments, a wire-side one 32 messages of up to 64 GRO
    // segments.
    private static readonly InstrumentAdvice<int> BatchBuckets = new() { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048] };

    /// <summary>
    /// Datagrams (one inner packet each) per sendmmsg of one TUN queue, after TSO super-packets were cut: record
    /// <see cref="Udp.WireSendBatch.Datagrams"/>, not the entry count, since an entry with UDP_SEGMENT carries up to 64.
    /// </summary>
    internal static readonly Histogram<int> TunBatch = Meter.CreateHistogram(
        "flannel_udp_tun_to_wire_batch_packets", unit: "{packet}", description: "Packets (datagrams) sent per sendmmsg batch, TUN to wire", advice: BatchBuckets);

    /// <summary>
    /// Datagrams per recvmmsg: record <c>WireToTun.DatagramsIn(received)</c>, not the message count, since one UDP_GRO
    /// message holds up to 64.
    /// </summary>
    internal static readonly Histogram<int> WireBatch = Meter.CreateHistogram(
        "flannel_udp_wire_to_tun_batch_datagrams", unit: "{datagram}", description: "Datagrams received per recvmmsg batch (GRO segments counted one by one), wire to TUN", advice: BatchBuckets);

    private static readonly Counter<long> Repairs = Meter.CreateCounter<long>(
        "flannel_reconcile_repairs", description: "Kernel entries put back or removed by the reconcile loop, by backend and kind");

    private static readonly Counter<long> Recreations = Meter.CreateCounter<long>(
        "flannel_device_recreations", description: "Kernel objects of ours that had gone and were built again, by backend and device");

    static BackendMetrics()
    {
        Meter.CreateObservableCounter("flannel_udp_packets", () => Sum(c => c.Packets), unit: "{packet}",
            description: "Inner packets passed by the udp pump, by direction");
        Meter.CreateObservableCounter("flannel_udp_bytes", () => Sum(c => c.Bytes), unit: "By",
            description: "Inner bytes passed by the udp pump, by direction");
        Meter.CreateObservableCounter("flannel_udp_drops", Drops, unit: "{packet}",
            description: "Packets dropped by the udp pump, by direction and reason");
        Meter.CreateObservableCounter("flannel_udp_icmp_unreachable_sent", () => Sum(c => c.IcmpSent), unit: "{packet}",
            description: "ICMP net-unreachable replies written back into the TUN, by direction");
        Meter.CreateObservableGauge("flannel_backend_peers", PeerCounts, unit: "{peer}",
            description: "Peers programmed by the backend on this host");
    }

    internal static void Register(UdpPump pump) => Pumps.TryAdd(pump, 0);

    internal static void Unregister(UdpPump pump) => Pumps.TryRemove(pump, out _);

    /// <summary>The number of peers <paramref name="backend"/> has programmed now.</summary>
    public static void ProgrammedPeers(string backend, int count) => Peers[backend] = count;

    public static void Repaired(string backend, string kind, int count = 1) =>
        Repairs.Add(count, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A device of ours (or what is bound to the external interface) was built again after it had gone.</summary>
    public static void Recreated(string backend, string device) =>
        Recreations.Add(1, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("device", device));

    private static IEnumerable<Measurement<long>> PeerCounts()
    {
        foreach (var (backend, count) in Peers)
        {
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("backend", backend));
        }
    }

    private static IEnumerable<Measurement<long>> Sum(Func<PumpCounters, long> figure)
    {
        if (Pumps.IsEmpty)
        {
            yield break;
        }
        long outbound = 0, inbound = 0;
        foreach (var pump in Pumps.Keys)
        {
            foreach (var c in pump.OutboundCounters)
            {
                outbound += figure(c);
            }
            inbound += figure(pump.InboundCounters);
        }
        yield return new Measurement<long>(outbound, Direction(TunToWire));
        yield return new Measurement<long>(inbound, Direction(WireToTun));
    }

    private static IEnumerable<Measurement<long>> Drops()
    {
        if (Pumps.IsEmpty)
        {
            yield break;
        }
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            long outbound = 0, inbound = 0;
            foreach (var pump in Pumps.Keys)
            {
                foreach (var c in pump.OutboundCounters)
                {
                    outbound += c.Drops(reason);
                }
                inbound += pump.InboundCounters.Drops(reason);
            }
            string name = DropReasonNames.Of(reason);
            yield return new Measurement<long>(outbound, Direction(TunToWire), new KeyValuePair<string, object?>("reason", name));
            yield return new Measurement<long>(inbound, Direction(WireToTun), new KeyValuePair<string, object?>("reason", name));
        }
    }

    private static KeyValuePair<string, object?> Direction(string d) => new("direction", d);
}
