using System.Text.Json;
using Flannel.Daemon.Commands;

namespace Flannel.Daemon.Tests;

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
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw","VNI":2}}""", "-");
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
    public void Warnings_go_to_stderr_and_the_udp_default_is_shown()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/16","Backen":{"Type":"vxlan"}}""");
        Assert.Equal(0, code);
        Assert.Contains("warning: unknown key \"Backen\"", err, StringComparison.Ordinal);
        Assert.Contains("did you mean \"Backend\"", err, StringComparison.Ordinal);
        Assert.Contains("udp backend", err, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("udp", doc.RootElement.GetProperty("Backend").GetProperty("Type").GetString());
    }

    [Fact]
    public void Invalid_config_prints_flanneld_error_and_exits_1()
    {
        var (code, output, err) = Run("""{"Network":"10.0.0.0/30"}""");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("error: network is too small. Minimum useful network prefix is /28", err.Trim());
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
        Assert.StartsWith("error: vxlan backend: VNI must be a number", badErr, StringComparison.Ordinal);
        var (portCode, _, portErr) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"udp","Port":70000}}""");
        Assert.Equal(1, portCode);
        Assert.StartsWith("error: udp backend: Port must be a number", portErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_backend_type_is_an_error()
    {
        var (code, _, err) = Run("""{"Network":"10.0.0.0/16","Backend":{"Type":"ipsec"}}""");
        Assert.Equal(1, code);
        Assert.StartsWith("error: unknown backend type: ipsec", err, StringComparison.Ordinal);
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
