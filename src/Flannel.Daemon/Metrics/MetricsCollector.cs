using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Flannel.Daemon.Metrics;

/// <summary>
/// Listens to every meter named "Flannel.*" from process start and renders the Prometheus text exposition format
/// (version 0.0.4) for <c>/metrics</c>. Observable instruments (the udp pump's counters, peer gauges) are read only
/// when rendering, so scraping is the only cost they have.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _states = new();
    private readonly Lock _collect = new();

    public MetricsCollector(string meterPrefix = "Flannel.")
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith(meterPrefix, StringComparison.Ordinal))
            {
                var state = _states.GetOrAdd(instrument, InstrumentState.For);
                listener.EnableMeasurementEvents(instrument, state);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _states.TryRemove(instrument, out InstrumentState? _);
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Every instrument's current series, sorted by metric name.</summary>
    public string Render()
    {
        lock (_collect)
        {
            foreach (var state in _states.Values)
            {
                state.BeginCollection();
            }
            _listener.RecordObservableInstruments();
            var sb = new StringBuilder();
            foreach (var state in _states.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                state.Render(sb);
            }
            return sb.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();
}
