using System.Text.Json;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
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
    public void A_dual_stack_network_shows_its_IPv6_network_and_each_lease_s_IPv6_subnet_and_PublicIPv6_in_text_and_JSON()
    {
        var config = NetworkConfigParser.Parse("""{"Network":"10.5.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:5::/48","Backend":{"Type":"host-gw"}}""");
        var own = new Lease(new SubnetKey(Ip4Network.ParseCidr("10.5.1.0/24"), Ip6Network.ParseCidr("2001:db8:5:1::/64")),
            new LeaseAttrs(Ip4Address.Parse("198.51.100.1"), Ip6Address.Parse("2001:db8:100::1"), "host-gw"), 1, 1);
        var v4only = new Lease(new SubnetKey(Ip4Network.ParseCidr("10.5.2.0/24")), new LeaseAttrs(Ip4Address.Parse("198.51.100.2"), BackendType: "host-gw"), 1, 1);
        var report = Analyze(config, Kernel(null, [ViaRoute("10.5.2.0/24", "198.51.100.2")]), new LeaseWithTtl(own, null), new LeaseWithTtl(v4only, null));

        string text = StatusTextWriter.Render(report);
        Assert.Contains("ipv6       2001:db8:5::/48 (IPv6 is leased; this version does not route it between hosts yet)", text, StringComparison.Ordinal);
        Assert.Matches(@"SUBNET\s+IPV6 SUBNET\s+PUBLIC IP\s+PUBLIC IPV6\s+BACKEND", text);
        Assert.Matches(@"10\.5\.1\.0/24\s+2001:db8:5:1::/64\s+198\.51\.100\.1\s+2001:db8:100::1\s+host-gw\s+never\s+this-host", text);
        Assert.Matches(@"10\.5\.2\.0/24\s+-\s+198\.51\.100\.2\s+-\s+host-gw\s+never\s+yes", text);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, StatusJsonContext.Default.StatusReport));
        Assert.Equal("2001:db8:5::/48", json.RootElement.GetProperty("config").GetProperty("ipv6Network").GetString());
        var row = json.RootElement.GetProperty("leases")[0];
        Assert.Equal(("2001:db8:5:1::/64", "2001:db8:100::1"), (row.GetProperty("ipv6Subnet").GetString(), row.GetProperty("publicIPv6").GetString()));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("leases")[1].GetProperty("ipv6Subnet").ValueKind);
    }

    [Fact]
    public void An_IPv4_network_keeps_its_columns()
    {
        Assert.Matches(@"SUBNET\s+PUBLIC IP\s+BACKEND\s+EXPIRES IN\s+PROGRAMMED", StatusTextWriter.Render(Report()));
    }

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
