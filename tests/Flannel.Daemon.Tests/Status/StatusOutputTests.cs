using System.Text.Json;
using Flannel.Daemon.Commands.Status;
using static Flannel.Daemon.Tests.Status.StatusFixtures;

namespace Flannel.Daemon.Tests.Status;

[Unit]
public class StatusOutputTests
{
    private static StatusReport Report() => Analyze(Config("""{"Type":"vxlan"}"""),
        Kernel("flannel.1", [OnlinkRoute("10.5.9.0/24")], [Neigh("10.5.2.0", "0a:00:00:00:00:0a")], [Fdb("0a:00:00:00:00:0a", "198.51.100.2")]),
        Vxlan("10.5.1.0/24", "198.51.100.1", "01:00:00:00:00:01", ttl: 86_399),
        Vxlan("10.5.2.0/24", "198.51.100.2", "0a:00:00:00:00:0a", ttl: 59),
        Other("10.5.4.0/24", "198.51.100.4", "host-gw", ttl: 3_700));

    [Fact]
    public void Text_has_the_config_one_row_per_lease_and_every_drift()
    {
        string text = StatusTextWriter.Render(Report());
        Assert.Contains("network    10.5.0.0/16, /24 subnets from 10.5.1.0 to 10.5.255.0", text, StringComparison.Ordinal);
        Assert.Contains("device     flannel.1 (present)", text, StringComparison.Ordinal);
        Assert.Matches(@"10\.5\.1\.0/24\s+198\.51\.100\.1\s+vxlan\s+23h59m59s\s+this-host", text);
        Assert.Matches(@"10\.5\.2\.0/24\s+198\.51\.100\.2\s+vxlan\s+59s\s+partly \(missing route\)", text);
        Assert.Matches(@"10\.5\.4\.0/24\s+198\.51\.100\.4\s+host-gw\s+1h1m40s\s+not-expected", text);
        Assert.Contains("drift      2", text, StringComparison.Ordinal);
        Assert.Contains("  missing route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink", text, StringComparison.Ordinal);
        Assert.Contains("  stale route 10.5.9.0/24 via 10.5.9.0 dev flannel.1 onlink", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_carries_the_same_content()
    {
        var report = Report();
        string json = JsonSerializer.Serialize(report, StatusJsonContext.Default.StatusReport);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("10.5.0.0/16", root.GetProperty("config").GetProperty("network").GetString());
        Assert.Equal("flannel.1", root.GetProperty("config").GetProperty("device").GetString());
        Assert.Equal("10.5.1.0/24", root.GetProperty("own").GetProperty("subnet").GetString());
        var leases = root.GetProperty("leases").EnumerateArray().ToList();
        Assert.Equal(3, leases.Count);
        Assert.Equal(59, leases[1].GetProperty("expiresInSeconds").GetInt64());
        Assert.Equal("partly", leases[1].GetProperty("programmed").GetString());
        Assert.True(leases[0].GetProperty("own").GetBoolean());
        var drift = root.GetProperty("drift").EnumerateArray().Select(d => d.GetProperty("text").GetString()).ToList();
        Assert.Equal(report.Drift.Select(d => d.Text), drift);
        Assert.Equal("missing", root.GetProperty("drift")[0].GetProperty("kind").GetString());
        var back = JsonSerializer.Deserialize(json, StatusJsonContext.Default.StatusReport)!;
        Assert.Equal(report.Warnings, back.Warnings);
        Assert.Equal(report, back with { Leases = report.Leases, Drift = report.Drift, Warnings = report.Warnings });
    }

    [Theory]
    [InlineData(null, "never")]
    [InlineData(-1L, "expired")]
    [InlineData(0L, "0s")]
    [InlineData(86_399L, "23h59m59s")]
    public void Ttl_is_written_like_a_Go_duration(long? seconds, string text) => Assert.Equal(text, StatusTextWriter.Ttl(seconds));
}
