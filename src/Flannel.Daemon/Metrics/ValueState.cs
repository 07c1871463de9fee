using System.Diagnostics.Metrics;
using System.Text;

namespace Flannel.Daemon.Metrics;

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
