using System.Collections.Concurrent;
using Flannel.Subnet;

namespace Flannel.Daemon.Health;

/// <summary>The last report of each loop; a loop is stale once its declared bound has passed without a new report.</summary>
internal sealed class LoopHealthRegistry : ILoopHealth
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, TimeSpan Bound)> _reports = new();
    private readonly TimeProvider _time;
    private readonly string[] _expected;
    private volatile bool _ready;

    /// <param name="expected">Loops that must have reported at least once once the daemon is ready.</param>
    public LoopHealthRegistry(TimeProvider time, params string[] expected)
    {
        _time = time;
        _expected = expected;
    }

    public void Report(string loopName, TimeSpan bound) => _reports[loopName] = (_time.GetUtcNow(), bound);

    /// <summary>subnet.env is written: /readyz turns 200, and the expected loops start to count.</summary>
    public void MarkReady() => _ready = true;

    public bool IsReady => _ready;

    /// <summary>The loops that are late (or, once ready, have never reported), with how late they are.</summary>
    public IReadOnlyList<string> StaleLoops()
    {
        var now = _time.GetUtcNow();
        var stale = new List<string>();
        foreach (var (name, (at, bound)) in _reports)
        {
            if (now - at > bound)
            {
                stale.Add($"{name} (last report {(now - at).TotalSeconds:F0} s ago, bound {bound.TotalSeconds:F0} s)");
            }
        }
        if (_ready)
        {
            stale.AddRange(_expected.Where(e => !_reports.ContainsKey(e)).Select(e => $"{e} (never reported)"));
        }
        stale.Sort(StringComparer.Ordinal);
        return stale;
    }
}
