using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Flannel.Daemon.Metrics;

/// <summary>What the collector keeps of one instrument: a value per label set, or histogram buckets per label set.</summary>
internal abstract class InstrumentState(Instrument instrument, string name, string type)
{
    public Instrument Instrument { get; } = instrument;

    /// <summary>The exported metric name (Prometheus conventions: unit suffix, <c>_total</c> on counters).</summary>
    public string Name { get; } = name;

    public string Type { get; } = type;

    public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    /// <summary>Observable instruments report absolute values at each collection: the previous ones are dropped first.</summary>
    public virtual void BeginCollection()
    {
    }

    public abstract void Render(StringBuilder sb);

    public static InstrumentState For(Instrument instrument)
    {
        string name = MetricLabels.SanitizeName(instrument.Name);
        string? suffix = instrument.Unit switch
        {
            "s" => "_seconds",
            "By" => "_bytes",
            _ => null,
        };
        if (suffix is not null && !name.EndsWith(suffix, StringComparison.Ordinal))
        {
            name += suffix;
        }
        // Exact types, not type names: the binary is trimmed and AOT compiled.
        bool monotonic = instrument is Counter<long> or Counter<int> or Counter<double>
            or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>;
        if (instrument is Histogram<long> or Histogram<int> or Histogram<double>)
        {
            return new HistogramState(instrument, name, BucketsOf(instrument));
        }
        return new ValueState(instrument, monotonic ? name + "_total" : name, monotonic ? "counter" : "gauge",
            cumulative: !instrument.IsObservable);
    }

    private static double[] BucketsOf(Instrument instrument) => instrument switch
    {
        Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
        Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
        Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
        // OpenTelemetry's default boundaries
        _ => [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000],
    };

    protected void Header(StringBuilder sb)
    {
        if (Instrument.Description is { Length: > 0 } help)
        {
            sb.Append("# HELP ").Append(Name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        }
        sb.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
    }

    protected static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Counters (summed) and gauges / observable instruments (last value).</summary>
internal sealed class ValueState(Instrument instrument, string name, string type, bool cumulative) : InstrumentState(instrument, name, type)
{
    private readonly Dictionary<string, double> _series = new(StringComparer.Ordinal);

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string labels = MetricLabels.Render(tags);
        lock (_series)
        {
            _series[labels] = cumulative && _series.TryGetValue(labels, out double sum) ? sum + value : value;
        }
    }

    public override void BeginCollection()
    {
        if (!cumulative)
        {
            lock (_series)
            {
                _series.Clear();
            }
        }
    }

    public override void Render(StringBuilder sb)
    {
        lock (_series)
        {
            if (_series.Count == 0)
            {
                return;
            }
            Header(sb);
            foreach (var (labels, value) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                sb.Append(Name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
            }
        }
    }
}

/// <summary>
/// Cumulative buckets per label set. The series without labels (the udp pump's batch sizes, recorded from the packet
/// threads) is a field, so recording it allocates nothing.
/// </summary>
internal sealed class HistogramState(Instrument instrument, string name, double[] bounds) : InstrumentState(instrument, name, "histogram")
{
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly Series _unlabelled = new(bounds.Length);
    private bool _unlabelledUsed;

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Series series;
        if (tags.IsEmpty)
        {
            series = _unlabelled;
            _unlabelledUsed = true;
        }
        else
        {
            string labels = MetricLabels.Render(tags);
            lock (_series)
            {
                if (!_series.TryGetValue(labels, out series!))
                {
                    _series[labels] = series = new Series(bounds.Length);
                }
            }
        }
        int bucket = 0;
        while (bucket < bounds.Length && value > bounds[bucket])
        {
            bucket++;
        }
        lock (series)
        {
            series.Counts[bucket]++;
            series.Sum += value;
            series.Count++;
        }
    }

    public override void Render(StringBuilder sb)
    {
        List<KeyValuePair<string, Series>> all;
        lock (_series)
        {
            all = [.. _series.OrderBy(s => s.Key, StringComparer.Ordinal)];
        }
        if (_unlabelledUsed)
        {
            all.Insert(0, new("", _unlabelled));
        }
        if (all.Count == 0)
        {
            return;
        }
        Header(sb);
        foreach (var (labels, series) in all)
        {
            long[] counts;
            double sum;
            long count;
            lock (series)
            {
                counts = (long[])series.Counts.Clone();
                sum = series.Sum;
                count = series.Count;
            }
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += counts[i];
                string le = i < bounds.Length ? Number(bounds[i]) : "+Inf";
                sb.Append(Name).Append("_bucket").Append(MetricLabels.With(labels, "le", le)).Append(' ').Append(cumulative).Append('\n');
            }
            sb.Append(Name).Append("_sum").Append(labels).Append(' ').Append(Number(sum)).Append('\n');
            sb.Append(Name).Append("_count").Append(labels).Append(' ').Append(count).Append('\n');
        }
    }

    private sealed class Series(int bounds)
    {
        public long[] Counts { get; } = new long[bounds + 1];
        public double Sum { get; set; }
        public long Count { get; set; }
    }
}
