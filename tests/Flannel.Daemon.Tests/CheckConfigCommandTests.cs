using System.Text.Json;
using Flannel.Daemon.Commands;

namespace Flannel.Daemon.Tests;

[Unit]
public class CheckConfigCommandTests
{
    private static (int Code, string Out, string Err) Run(string? stdin, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CheckConfigCommand.Run(args, new StringReader(stdin ?? ""), o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Valid_config_from_stdin_prints_the_effective_config_with_flannel_field_names()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","VNI":2}}""", "-");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6",
            "IPv6SubnetLen", "Backend"], names); // IPv6 addresses of an IPv4-only config are left out, not null
        var r = doc.RootElement;
        Assert.Equal("10.0.0.0/16", r.GetProperty("Network").GetString());
        Assert.Equal(24, r.GetProperty("SubnetLen").GetInt32());
        Assert.Equal("10.0.1.0", r.GetProperty("SubnetMin").GetString());
        Assert.Equal("10.0.255.0", r.GetProperty("SubnetMax").GetString());
        Assert.True(r.GetProperty("EnableIPv4").GetBoolean());
        Assert.False(r.TryGetProperty("IPv6Network", out _));
        Assert.Equal(2, r.GetProperty("Backend").GetProperty("VNI").GetInt32());
        Assert.Contains("\n  \"Network\"", output, StringComparison.Ordinal); // indented
    }

    [Fact]
    public void IPv6_with_vxlan_is_valid_without_a_warning()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:1::/48","Backend":{"Type":"vxlan"}}""");
        Assert.Equal(0, code);
        Assert.Contains("\"IPv6Network\": \"2001:db8:1::/48\"", output, StringComparison.Ordinal);
        Assert.Equal("", err);
    }

    [Theory]
    [InlineData("""{"Network":"10.0.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:1::/48","Backend":{"Type":"udp"}}""", "\"EnableIPv6\": true")]
    [InlineData("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"2001:db8:1::/48"}""", "\"EnableIPv6\": true")]
    public void The_udp_backend_with_IPv6_is_refused_as_the_daemon_refuses_it(string config, string named)
    {
        var (code, output, err) = Run(config);
        Assert.Equal(CheckConfigCommand.Invalid, code);
        Assert.Equal("", output);
        Assert.EndsWith($"error: standard input: the udp backend carries IPv4 only (as flanneld's does): a network with {named} needs the vxlan or host-gw backend\n",
            err.Replace("\r", ""), StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_exits_3_with_the_suggestion_and_the_udp_default_is_shown()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backen":{"Type":"vxlan"}}""");
        Assert.Equal(CheckConfigCommand.UnknownKeys, code);
        Assert.Equal(3, code);
        Assert.Equal("""
            warning: unknown key "Backen" in network config is ignored (did you mean "Backend"?)
            warning: no "Backend" key ("Backen" looks like a misspelt "Backend" and is ignored): flanneld's default is the udp backend; set {"Backend":{"Type":"vxlan"}} (or host-gw, udp) to choose one
            error: standard input: 1 unknown key (listed above): fix it, or pass --allow-unknown to accept the config as the daemon would (ignoring them)

            """, err);
        using var doc = JsonDocument.Parse(output); // the effective config is still printed
        Assert.Equal("udp", doc.RootElement.GetProperty("Backend").GetProperty("Type").GetString());
    }

    [Fact]
    public void Allow_unknown_keeps_flanneld_leniency_with_the_warnings()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backen":{"Type":"vxlan"}}""", "--allow-unknown", "-");
        Assert.Equal(0, code);
        Assert.Contains("warning: unknown key \"Backen\" in network config is ignored (did you mean \"Backend\"?)", err, StringComparison.Ordinal);
        Assert.DoesNotContain("error:", err, StringComparison.Ordinal);
        Assert.Contains("\"Type\": \"udp\"", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","DirectRoutng":true}}""",
        "warning: unknown key \"DirectRoutng\" in Backend (vxlan) is ignored (did you mean \"DirectRouting\"?)\n" +
        "error: standard input: 1 unknown key (listed above): fix it, or pass --allow-unknown to accept the config as the daemon would (ignoring them)\n")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":{"Type":"udp","Prot":8286}}""",
        "warning: unknown key \"Prot\" in Backend (udp) is ignored (did you mean \"Port\"?)\n" +
        "error: standard input: 1 unknown key (listed above): fix it, or pass --allow-unknown to accept the config as the daemon would (ignoring them)\n")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw","VNI":2,"Port":1}}""",
        "warning: unknown key \"VNI\" in Backend (host-gw) is ignored\n" +
        "warning: unknown key \"Port\" in Backend (host-gw) is ignored\n" +
        "error: standard input: 2 unknown keys (listed above): fix them, or pass --allow-unknown to accept the config as the daemon would (ignoring them)\n")]
    public void Unknown_backend_options_are_named_per_backend_and_exit_3(string json, string expectedErr)
    {
        var (code, _, err) = Run(json);
        Assert.Equal(3, code);
        Assert.Equal(expectedErr, err);
        Assert.Equal(0, Run(json, "--allow-unknown").Code);
    }

    [Fact]
    public void Backend_options_match_case_insensitively_as_flanneld_reads_them()
    {
        var (code, _, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"type":"vxlan","vni":2,"directRouting":true,"mtu":1400,"PORT":4789,"gbp":false,"learning":false}}""");
        Assert.Equal("", err);
        Assert.Equal(0, code);
    }

    [Theory]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\n  \"Backend\": {\"Type\":\"vxlan\",}\n}",
        "error: standard input: invalid JSON at line 2, column 30: expected a key in double quotes, found '}' (JSON allows no comma before '}')\n")]
    [InlineData("", "error: standard input: the config is empty: it must be a JSON object such as {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}\n")]
    [InlineData("[]", "error: standard input: the config must be a JSON object ({...}), not an array: for example {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}\n")]
    [InlineData("""{"Network":"10.0.0.0/33","Backend":{"Type":"vxlan"}}""",
        "error: standard input: Network \"10.0.0.0/33\" is not a valid IPv4 network (CIDR): the prefix length after '/' must be a number from 0 to 32\n")]
    public void Invalid_configs_name_the_problem_in_the_config_terms_and_exit_1(string json, string expectedErr)
    {
        var (code, output, err) = Run(json);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal(expectedErr, err);
    }

    [Fact]
    public void Help_goes_to_stdout_with_the_exit_codes_and_usage_errors_exit_2()
    {
        var (code, output, err) = Run(null, "--help");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.StartsWith("usage: flanneld check-config [--allow-unknown] [FILE|-]\n", output, StringComparison.Ordinal);
        foreach (string line in (string[])["  0  valid", "  1  invalid", "  2  usage error", "  3  valid for the daemon, but it has keys flannel does not know"])
        {
            Assert.Contains("\n" + line, output, StringComparison.Ordinal);
        }
        var (badFlag, _, badErr) = Run(null, "--allow-unknwn");
        Assert.Equal(2, badFlag);
        Assert.Equal("flanneld check-config: unknown flag --allow-unknwn (see flanneld check-config --help)\n", badErr);
        var (two, _, twoErr) = Run(null, "a.json", "b.json");
        Assert.Equal(2, two);
        Assert.Equal("flanneld check-config: one config at a time, got a.json and b.json (see flanneld check-config --help)\n", twoErr);
    }

    [Fact]
    public void Invalid_config_prints_flanneld_error_and_exits_1()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/30"}""");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("error: standard input: network is too small. Minimum useful network prefix is /28", err.Trim());
    }

    [Fact]
    public void Every_backend_type_is_valid_without_warnings_and_bad_backend_options_are_errors()
    {
        foreach (var type in new[] { "vxlan", "udp", "host-gw", "VXLAN" })
        {
            var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":""" + $"\"{type}\"}}}}");
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.Contains($"\"Type\": \"{type}\"", output, StringComparison.Ordinal);
        }
        var (badCode, _, badErr) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","VNI":"one"}}""");
        Assert.Equal(1, badCode);
        Assert.StartsWith("error: standard input: vxlan backend: VNI must be a number", badErr, StringComparison.Ordinal);
        var (portCode, _, portErr) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"udp","Port":70000}}""");
        Assert.Equal(1, portCode);
        Assert.StartsWith("error: standard input: udp backend: Port must be a number", portErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_backend_type_is_an_error()
    {
        var (code, _, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"ipsec"}}""");
        Assert.Equal(1, code);
        Assert.StartsWith("error: standard input: unknown backend type: ipsec", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_a_file_and_reports_a_missing_one()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{"EnableIPv6":true,"Network":"10.1.0.0/16","IPv6Network":"fd00::/48","Backend":{"Type":"host-gw"}}""");
            var (code, output, _) = Run(null, path);
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal("fd00::/48", doc.RootElement.GetProperty("IPv6Network").GetString());
            Assert.Equal(64, doc.RootElement.GetProperty("IPv6SubnetLen").GetInt32());
            Assert.Equal("fd00:0:0:1::", doc.RootElement.GetProperty("IPv6SubnetMin").GetString());
        }
        finally
        {
            File.Delete(path);
        }
        var (missing, _, err) = Run(null, "/nonexistent/config.json");
        Assert.Equal(1, missing);
        Assert.StartsWith("error: cannot read /nonexistent/config.json", err, StringComparison.Ordinal);
    }
}
