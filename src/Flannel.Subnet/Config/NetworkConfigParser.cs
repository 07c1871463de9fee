using System.Text.Json;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Config;

/// <summary>
/// Parses and validates the network config JSON with Go <c>encoding/json</c> semantics (keys match
/// case-insensitively, the last duplicate wins, wrong JSON types are errors) and flannel's checks and defaults.
/// Unknown keys are ignored like flanneld does, but each gives a warning (with a "did you mean" for near misses).
/// Errors name the key, the value and what is allowed, in the operator's terms rather than Go's decoder's.
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
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new NetworkConfigException("the config is empty: it must be a JSON object such as " + Example);
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw JsonSyntaxError.Find(json) is { } where
                ? new NetworkConfigException($"invalid JSON at line {where.Line}, column {where.Column}: {where.Message}", e)
                : new NetworkConfigException($"invalid JSON: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            // A .NET string holding a lone surrogate cannot be transcoded to UTF-8 (only possible from code, not a file).
            throw new NetworkConfigException("invalid text in the config: it holds a broken UTF-16 character", e);
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
                throw new NetworkConfigException("invalid text in the config: a \\u escape names half a character (a lone surrogate)", e);
            }
        }
    }

    /// <summary>The smallest useful config, shown where the operator needs an example.</summary>
    public const string Example = "{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}";

    private static NetworkConfig Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new NetworkConfigException($"the config must be a JSON object ({{...}}), not {Kind(root)}: for example {Example}");
        }
        var unknown = new List<UnknownKey>();
        var raw = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in root.EnumerateObject())
        {
            if (Array.Find(KnownKeys, k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase)) is { } known)
            {
                raw[known] = p.Value; // Go: the last occurrence wins.
            }
            else
            {
                unknown.Add(new UnknownKey(p.Name, "network config", KeySuggester.Suggest(p.Name, KnownKeys)));
            }
        }
        var warnings = unknown.Select(u => u.Describe()).ToList();

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

        var (backendType, backendJson, backendChoice) = ParseBackend(raw, unknown, warnings);

        var config = new NetworkConfig
        {
            EnableIPv4 = enable4,
            EnableIPv6 = enable6,
            EnableNFTables = nft,
            BackendType = backendType,
            BackendJson = backendJson,
            BackendChoice = backendChoice,
        };
        if (enable4)
        {
            config = CheckIPv4(config, network, (int)Math.Min(subnetLen, 1000), min, max);
        }
        if (enable6)
        {
            config = CheckIPv6(config, network6, (int)Math.Min(subnetLen6, 1000), min6, max6);
        }
        return config with { Warnings = warnings, UnknownKeys = unknown };
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

    private static (string Type, string Json, string Choice) ParseBackend(Dictionary<string, JsonElement> raw, List<UnknownKey> unknown,
        List<string> warnings)
    {
        if (!raw.TryGetValue("Backend", out var backend))
        {
            // flanneld's parseBackendType: no Backend key means udp (the docs wrongly say vxlan). A misspelt "Backend" is
            // the classic way to get here without meaning to.
            string? typo = unknown.Find(u => u.Suggestion == "Backend")?.Key;
            string choice = typo is null
                ? "no \"Backend\" key: flanneld's default"
                : $"no \"Backend\" key (\"{typo}\" looks like a misspelt \"Backend\" and is ignored): flanneld's default";
            warnings.Add($"{choice} is the udp backend; set {{\"Backend\":{{\"Type\":\"vxlan\"}}}} (or host-gw, udp) to choose one");
            return ("udp", "{\"Type\":\"udp\"}", choice);
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
                        throw new NetworkConfigException($"Backend.Type must be a string such as \"vxlan\", not {Kind(p.Value)}: {p.Value.GetRawText()}");
                    }
                }
                break;
            default:
                throw new NetworkConfigException($"Backend must be a JSON object such as {{\"Type\":\"vxlan\"}}, not {Kind(backend)}: {backend.GetRawText()}");
        }
        return (type, backend.GetRawText(), type.Length == 0 ? "Backend has no \"Type\"" : $"Backend.Type \"{type}\"");
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
            _ => throw TypeError(v, key, "true or false"),
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
            throw TypeError(v, key, "a whole number");
        }
        if (!v.TryGetUInt64(out ulong n))
        {
            throw new NetworkConfigException($"{key} must be a whole number from 0 up, not {v.GetRawText()}");
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
        throw new NetworkConfigException(BadCidr(key, s, 32));
    }

    /// <summary>Why a CIDR does not parse, in the operator's terms: which part is wrong and what is allowed.</summary>
    private static string BadCidr(string key, string s, int maxPrefix)
    {
        string family = maxPrefix == 32 ? "IPv4" : "IPv6";
        string head = $"{key} \"{s}\" is not a valid {family} network (CIDR)";
        int slash = s.IndexOf('/');
        if (slash < 0)
        {
            return $"{head}: it has no prefix length; write it as address/length, e.g. " + (maxPrefix == 32 ? "\"10.0.0.0/16\"" : "\"2001:db8::/56\"");
        }
        string address = s[..slash];
        bool addressOk = maxPrefix == 32 ? Ip4Address.TryParse(address, out _) : Ip6Address.TryParse(address, out _);
        if (!addressOk)
        {
            return $"{head}: \"{address}\" is not an {family} address";
        }
        return $"{head}: the prefix length after '/' must be a number from 0 to {maxPrefix}";
    }

    private static Ip6Network? GetCidr6(Dictionary<string, JsonElement> raw, string key)
    {
        if (TextOf(raw, key) is not { } s)
        {
            return null;
        }
        return Ip6Network.TryParseCidr(s, out var n) ? n
            : Ip4Network.TryParseCidr(s, out _) ? throw new NetworkConfigException($"{key} must be an IPv6 CIDR: {s}")
            : throw new NetworkConfigException(BadCidr(key, s, 128));
    }

    private static Ip4Address GetIp4(Dictionary<string, JsonElement> raw, string key)
    {
        if (TextOf(raw, key) is not { } s)
        {
            return default;
        }
        return Ip4Address.TryParse(s, out var a) ? a
            : Ip6Address.TryParse(s, out _) ? throw new NetworkConfigException($"{key} must be an IPv4 address: {s}")
            : throw new NetworkConfigException($"{key} \"{s}\" is not an IPv4 address");
    }

    private static Ip6Address? GetIp6(Dictionary<string, JsonElement> raw, string key)
    {
        if (!raw.TryGetValue(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null; // a pointer field in flannel: null leaves it unset
        }
        string s = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return Ip6Address.TryParse(s, out var a) ? a
            : throw new NetworkConfigException($"{key} \"{s}\" is not an IPv6 address");
    }

    private static NetworkConfigException TypeError(JsonElement v, string key, string expected) =>
        new($"{key} must be {expected}, not {Kind(v)}: {v.GetRawText()}");

    /// <summary>The JSON kind of a value with its article, as an operator reads it ("a string", "an array").</summary>
    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "true or false",
        _ => "null",
    };
}
