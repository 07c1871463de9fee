using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// `ping -i 0.1` from a container for a fixed count, running while a test injects a fault; afterwards the echoes that
/// never came back are the traffic the fault cost.
/// </summary>
internal sealed partial class PingMonitor
{
    private readonly Testbed _bed;
    private readonly Process _ping;

    private PingMonitor(Testbed bed, Process ping)
    {
        _bed = bed;
        _ping = ping;
    }

    public static PingMonitor Start(Testbed bed, string containerNs, string address, TimeSpan duration)
    {
        int count = (int)(duration.TotalSeconds * 10);
        var p = bed.Start(containerNs, "ping", ["-i", "0.1", "-W", "1", "-c", count.ToString(CultureInfo.InvariantCulture), address],
            logName: containerNs + "-ping");
        return new PingMonitor(bed, p);
    }

    /// <summary>Waits for the run to end and returns (sent, received).</summary>
    public async Task<(int Sent, int Received)> ResultAsync()
    {
        await _ping.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await Task.Delay(200); // the log pump writes the last lines
        string log = _bed.LogOf(_ping);
        var m = Summary().Match(log);
        Assert.True(m.Success, "no ping summary in:\n" + log);
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex Summary();
}
