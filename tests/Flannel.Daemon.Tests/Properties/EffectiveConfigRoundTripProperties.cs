using System.Text.Json;
using CsCheck;
using Flannel.Daemon.Commands;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests.Properties;

/// <summary>
/// Property test (issue 7 item 7): the effective config check-config prints is itself a config that parses back to
/// the same effective config.
/// </summary>
[Unit]
public class EffectiveConfigRoundTripProperties
{
    private static readonly Gen<string> Configs = Gen.Select(
        Gen.Select(Gen.UInt, Gen.Int[1, 30], Gen.Int[0, 32], Gen.Int[0, 3]),
        Gen.Select(Gen.ULong, Gen.Int[1, 126], Gen.Int[0, 128], Gen.Bool),
        Gen.OneOfConst("{\"Type\":\"vxlan\",\"VNI\":4}", "{\"Type\":\"udp\"}", "{ \"type\" : \"host-gw\" }", "null", "{}"),
        Gen.Int[0, 15],
        (v4, v6, backend, present) =>
        {
            var (ip, len, subnetLen, bounds) = v4;
            var (hi, len6, subnetLen6, enable6) = v6;
            var net = new Ip4Network(new Ip4Address(ip), len).Network;
            var net6 = new Ip6Network(new Ip6Address(new UInt128(hi, 0)), len6).Network;
            var parts = new List<string> { $"\"Network\":\"{net}\"" };
            if ((present & 1) != 0)
            {
                parts.Add($"\"SubnetLen\":{subnetLen}");
            }
            if (bounds == 1)
            {
                parts.Add($"\"SubnetMin\":\"{new Ip4Address(net.Ip.Value + (1u << Math.Max(0, 32 - Math.Max(subnetLen, 24))))}\"");
            }
            if (enable6)
            {
                parts.Add("\"EnableIPv6\":true");
                parts.Add($"\"IPv6Network\":\"{net6}\"");
                if ((present & 2) != 0)
                {
                    parts.Add($"\"IPv6SubnetLen\":{subnetLen6}");
                }
            }
            if ((present & 4) != 0)
            {
                parts.Add($"\"Backend\":{backend}");
            }
            if ((present & 8) != 0)
            {
                parts.Add("\"EnableNFTables\":true");
            }
            return "{" + string.Join(",", parts) + "}";
        });

    [Fact]
    public void The_effective_config_parses_back_to_itself()
    {
        int parsed = 0;
        Configs.Sample(json =>
        {
            NetworkConfig first;
            try
            {
                first = NetworkConfigParser.Parse(json);
            }
            catch (NetworkConfigException)
            {
                return;
            }
            Interlocked.Increment(ref parsed);
            string effective = CheckConfigCommand.FormatEffective(first);
            var second = NetworkConfigParser.Parse(effective);
            Assert.Equal(Normalize(first), Normalize(second));
            Assert.Equal(effective, CheckConfigCommand.FormatEffective(second));
        }, iter: 10_000);
        Assert.True(parsed > 1_000, $"only {parsed} generated configs were valid");
    }

    [Fact]
    public void The_effective_config_without_its_null_fields_parses_back_to_itself()
    {
        // The same round trip with the null address fields left out: flanneld's IP types (and so the parser) reject a
        // JSON null, so this checks everything else FormatEffective writes.
        int parsed = 0;
        Configs.Sample(json =>
        {
            NetworkConfig first;
            try
            {
                first = NetworkConfigParser.Parse(json);
            }
            catch (NetworkConfigException)
            {
                return;
            }
            Interlocked.Increment(ref parsed);
            string effective = WithoutNulls(CheckConfigCommand.FormatEffective(first));
            var second = NetworkConfigParser.Parse(effective);
            Assert.Equal(Normalize(first), Normalize(second));
        }, iter: 10_000);
        Assert.True(parsed > 1_000, $"only {parsed} generated configs were valid");
    }

    private static string WithoutNulls(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var members = doc.RootElement.EnumerateObject()
            .Where(p => p.Value.ValueKind != JsonValueKind.Null || p.Name == "Backend") // a null Backend means type ""
            .Select(p => JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText());
        return "{" + string.Join(",", members) + "}";
    }

    // Warnings, unknown keys and why the backend was chosen are about the text, not the config; the backend JSON is
    // compared as JSON, not as text.
    private static NetworkConfig Normalize(NetworkConfig c)
    {
        using var doc = JsonDocument.Parse(c.BackendJson);
        return c with { Warnings = [], UnknownKeys = [], BackendChoice = "", BackendJson = JsonSerializer.Serialize(doc.RootElement) };
    }
}
