using System.Diagnostics.Metrics;
using System.Text;

namespace Flannel.Daemon.Metrics;

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
