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
