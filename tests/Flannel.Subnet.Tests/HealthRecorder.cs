using System.Collections.Concurrent;

namespace Flannel.Subnet.Tests;

/// <summary>Counts each loop's health reports: a loop reports when it completes a round (a listing, a renewal's wait).</summary>
internal sealed class HealthRecorder : ILoopHealth
{
    private readonly ConcurrentDictionary<string, int> _reports = new(StringComparer.Ordinal);

    public void Report(string loopName, TimeSpan bound) => _reports.AddOrUpdate(loopName, 1, (_, n) => n + 1);

    public int Count(string loopName) => _reports.GetValueOrDefault(loopName);
}
