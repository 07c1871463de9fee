using System.Text.Json;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Config;

/// <summary>
/// Parses and validates the network config JSON with Go <c>encoding/json</c> semantics (keys match
/// case-insensitively, the last duplicate wins, wrong JSON types are errors) and flannel's checks and defaults.
/// Unknown keys are ignored like flanneld does, but each gives a warning (with a "did you mean" for near misses).
/// </summary>
public static class NetworkConfigParser
{
    internal static readonly string[] KnownKeys =
    [
        "EnableIPv4", "EnableIPv6", "EnableNFTables", "Network", "IPv6Network", "Networks", "IPv6Networks",
        "SubnetMin", "SubnetMax", "IPv6SubnetMin", "IPv6SubnetMax", "SubnetLen", "IPv6SubnetLen", "Backend",
    ];

    public static NetworkConfig Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // ArgumentException: a .NET string holding a lone surrogate cannot be transcoded to UTF-8.
            throw new NetworkConfigException($"invalid JSON in network config: {e.Message}", e);
        }
        using (doc)
        {
            try
            {
                return Parse(doc.RootElement);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json refuses to unescape a lone surrogate (\ud800) into a .NET string; Go would replace it
                // with U+FFFD, but no valid config contains one, so it is reported as invalid.
                throw new NetworkConfigException($"invalid text in network config: {e.Message}", e);
            }
        }
    }

    private static NetworkConfig Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new NetworkConfigException($"json: cannot unmarshal {GoKind(root)} into Go value of type subnet.Config");
        }
        var warnings = new List<string>();
        var raw = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in root.EnumerateObject())
        {
            string? known = Array.Find(KnownKeys, k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                string? near = KeySuggester.Suggest(p.Name, KnownKeys);
                warnings.Add(near is null
                    ? $"unknown key \"{p.Name}\" in network config is ignored"
                    : $"unknown key \"{p.Name}\" in network config is ignored (did you mean \"{near}\"?)");
                continue;
            }
            raw[known] = p.Value; // Go: the last occurrence wins.
        }

        bool enable4 = GetBool(raw, "EnableIPv4", true);
        bool enable6 = GetBool(raw, "EnableIPv6", false);
        bool nft = GetBool(raw, "EnableNFTables", false);
        var network = GetCidr4(raw, "Network");
        var network6 = GetCidr6(raw, "IPv6Network");
        var min = GetIp4(raw, "SubnetMin");
        var max = GetIp4(raw, "SubnetMax");
        var min6 = GetIp6(raw, "IPv6SubnetMin");
        var max6 = GetIp6(raw, "IPv6SubnetMax");
        ulong subnetLen = GetUInt(raw, "SubnetLen");
        ulong subnetLen6 = GetUInt(raw, "IPv6SubnetLen");
        foreach (string legacy in (ReadOnlySpan<string>)["Networks", "IPv6Networks"])
        {
            if (raw.ContainsKey(legacy))
            {
                warnings.Add($"key \"{legacy}\" (Kubernetes multi-network) is not used in etcd mode and is ignored");
            }
        }

        var (backendType, backendJson) = ParseBackend(raw, warnings);

        var config = new NetworkConfig
        {
            EnableIPv4 = enable4,
            EnableIPv6 = enable6,
            EnableNFTables = nft,
            BackendType = backendType,
            BackendJson = backendJson,
        };
        if (enable4)
        {
            config = CheckIPv4(config, network, (int)Math.Min(subnetLen, 1000), min, max);
        }
        if (enable6)
        {
            config = CheckIPv6(config, network6, (int)Math.Min(subnetLen6, 1000), min6, max6);
        }
        return config with { Warnings = warnings };
    }

    private static NetworkConfig CheckIPv4(NetworkConfig c, Ip4Network network, int subnetLen, Ip4Address min, Ip4Address max)
    {
        // 0.0.0.0/0 is Go's zero value: "no Network".
        if (network.IsEmpty)
        {
            throw new NetworkConfigException("please define a correct Network parameter in the flannel config");
        }
        if (subnetLen > 0)
        {
            if (subnetLen > 30)
            {
                throw new NetworkConfigException("SubnetLen must be less than /31");
            }
            if (subnetLen < network.PrefixLength + 2)
            {
                throw new NetworkConfigException("network must be able to accommodate at least four subnets");
            }
        }
        else if (network.PrefixLength > 28)
        {
            throw new NetworkConfigException("network is too small. Minimum useful network prefix is /28");
        }
        else
        {
            subnetLen = network.PrefixLength <= 22 ? 24 : network.PrefixLength + 2;
        }

        uint size = 1u << (32 - subnetLen);
        if (min.Value == 0)
        {
            // The first subnet is skipped: its .0 would be the Network's own address.
            min = new Ip4Address(network.Ip.Value + size);
        }
        else if (!network.Contains(min))
        {
            throw new NetworkConfigException("SubnetMin is not in the range of the Network");
        }
        if (max.Value == 0)
        {
            max = new Ip4Address(unchecked(network.Next().Ip.Value - size));
        }
        else if (!network.Contains(max))
        {
            throw new NetworkConfigException("SubnetMax is not in the range of the Network");
        }
        uint mask = uint.MaxValue << (32 - subnetLen);
        if ((min.Value & mask) != min.Value)
        {
            throw new NetworkConfigException($"SubnetMin is not on a SubnetLen boundary: {min}");
        }
        if ((max.Value & mask) != max.Value)
        {
            throw new NetworkConfigException($"SubnetMax is not on a SubnetLen boundary: {max}");
        }
        return c with { Network = network, SubnetLen = subnetLen, SubnetMin = min, SubnetMax = max };
    }

    private static NetworkConfig CheckIPv6(NetworkConfig c, Ip6Network? network6, int subnetLen, Ip6Address? min, Ip6Address? max)
    {
        if (network6 is not { IsEmpty: false } network)
        {
            throw new NetworkConfigException("please define a correct IPv6Network parameter in the flannel config");
        }
        if (subnetLen > 0)
        {
            if (subnetLen > 126)
            {
                throw new NetworkConfigException("SubnetLen must be less than /127");
            }
            if (subnetLen < network.PrefixLength + 2)
            {
                throw new NetworkConfigException("network must be able to accommodate at least four subnets");
            }
        }
        else if (network.PrefixLength > 124)
        {
            throw new NetworkConfigException("IPv6Network is too small. Minimum useful network prefix is /124");
        }
        else
        {
            subnetLen = network.PrefixLength <= 62 ? 64 : network.PrefixLength + 2;
        }

        UInt128 size = UInt128.One << (128 - subnetLen);
        Ip6Address m;
        if (min is null || min.Value.Value == UInt128.Zero)
        {
            m = new Ip6Address(network.Ip.Value + size);
        }
        else if (!network.Contains(m = min.Value))
        {
            throw new NetworkConfigException("IPv6SubnetMin is not in the range of the IPv6Network");
        }
        Ip6Address x;
        if (max is null || max.Value.Value == UInt128.Zero)
        {
            x = new Ip6Address(unchecked(network.Next().Ip.Value - size));
        }
        else if (!network.Contains(x = max.Value))
        {
            throw new NetworkConfigException("IPv6SubnetMax is not in the range of the IPv6Network");
        }
        UInt128 mask = UInt128.MaxValue << (128 - subnetLen);
        if ((m.Value & mask) != m.Value)
        {
            throw new NetworkConfigException($"IPv6SubnetMin is not on a SubnetLen boundary: {m}");
        }
        if ((x.Value & mask) != x.Value)
        {
            throw new NetworkConfigException($"IPv6SubnetMax is not on a SubnetLen boundary: {x}");
        }
        return c with { IPv6Network = network, IPv6SubnetLen = subnetLen, IPv6SubnetMin = m, IPv6SubnetMax = x };
    }

    private static (string Type, string Json) ParseBackend(Dictionary<string, JsonElement> raw, List<string> warnings)
    {
        if (!raw.TryGetValue("Backend", out var backend))
        {
            // flanneld's parseBackendType: no Backend key means udp (the docs wrongly say vxlan).
            warnings.Add("no \"Backend\" in network config: using the udp backend, as flanneld does; " +
                         "set {\"Backend\":{\"Type\":\"vxlan\"}} (or host-gw, udp) to choose one");
            return ("udp", "{\"Type\":\"udp\"}");
        }
        string type = "";
        switch (backend.ValueKind)
        {
            case JsonValueKind.Null:
                break;
            case JsonValueKind.Object:
                foreach (var p in backend.EnumerateObject())
                {
                    if (!string.Equals(p.Name, "Type", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        type = p.Value.GetString()!;
                    }
                    else if (p.Value.ValueKind != JsonValueKind.Null)
                    {
                        throw new NetworkConfigException("error decoding Backend property of config: json: cannot unmarshal " +
                            $"{GoKind(p.Value)} into Go struct field .Type of type string");
                    }
                }
                break;
            default:
                throw new NetworkConfigException("error decoding Backend property of config: json: cannot unmarshal " +
                    $"{GoKind(backend)} into Go value of type struct {{ Type string }}");
        }
        return (type, backend.GetRawText());
    }

    private static bool GetBool(Dictionary<string, JsonElement> raw, string key, bool fallback)
    {
        if (!raw.TryGetValue(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(v, key, "bool"),
        };
    }

    private static ulong GetUInt(Dictionary<string, JsonElement> raw, string key)
    {
        if (!raw.TryGetValue(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(v, key, "uint");
        }
        if (!v.TryGetUInt64(out ulong n))
        {
            throw new NetworkConfigException(
                $"json: cannot unmarshal number {v.GetRawText()} into Go struct field Config.{key} of type uint");
        }
        return n;
    }

    // flannel's IP types trim the quotes off whatever JSON value they get and parse the rest, so a non-string value
    // is reported with its raw text, as flanneld does.
    private static string? TextOf(Dictionary<string, JsonElement> raw, string key) =>
        !raw.TryGetValue(key, out var v) ? null : v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();

    private static Ip4Network GetCidr4(Dictionary<string, JsonElement> raw, string key)
    {
        if (TextOf(raw, key) is not { } s)
        {
            return default;
        }
        if (Ip4Network.TryParseCidr(s, out var n))
        {
            return n;
        }
        if (Ip6Network.TryParseCidr(s, out _))
        {
            throw new NetworkConfigException($"{key} must be an IPv4 CIDR (IPv6 goes in IPv6Network): {s}");
        }
        throw new NetworkConfigException($"invalid CIDR address: {s}");
    }

    private static Ip6Network? GetCidr6(Dictionary<string, JsonElement> raw, string key)
    {
        if (TextOf(raw, key) is not { } s)
        {
            return null;
        }
        return Ip6Network.TryParseCidr(s, out var n) ? n
            : Ip4Network.TryParseCidr(s, out _) ? throw new NetworkConfigException($"{key} must be an IPv6 CIDR: {s}")
            : throw new NetworkConfigException($"invalid CIDR address: {s}");
    }

    private static Ip4Address GetIp4(Dictionary<string, JsonElement> raw, string key)
    {
        if (TextOf(raw, key) is not { } s)
        {
            return default;
        }
        return Ip4Address.TryParse(s, out var a) ? a
            : Ip6Address.TryParse(s, out _) ? throw new NetworkConfigException($"{key} must be an IPv4 address: {s}")
            : throw new NetworkConfigException("Invalid IP address format");
    }

    private static Ip6Address? GetIp6(Dictionary<string, JsonElement> raw, string key)
    {
        if (!raw.TryGetValue(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null; // a pointer field in flannel: null leaves it unset
        }
        string s = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return Ip6Address.TryParse(s, out var a) ? a
            : throw new NetworkConfigException($"{key} must be an IPv6 address: {s}");
    }

    private static NetworkConfigException TypeError(JsonElement v, string key, string goType) =>
        new($"json: cannot unmarshal {GoKind(v)} into Go struct field Config.{key} of type {goType}");

    private static string GoKind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "null",
    };
}
