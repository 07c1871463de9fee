using System.Buffers;
using System.Text;
using System.Text.Json;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Leases;

/// <summary>
/// What a host publishes in its lease value (flannel's <c>LeaseAttrs</c>, compat §1.2). BackendData and BackendV6Data
/// are kept as raw JSON: they belong to the backend.
/// </summary>
public sealed record LeaseAttrs(
    Ip4Address PublicIP,
    Ip6Address? PublicIPv6 = null,
    string? BackendType = null,
    string? BackendData = null,
    string? BackendV6Data = null)
{
    /// <summary>The public address of one family; null for IPv6 when the host published none.</summary>
    public IpAddress? PublicIPOf(IpFamily family) => family == IpFamily.Ip6 ? PublicIPv6 : PublicIP;

    /// <summary>
    /// The JSON flanneld writes, byte for byte: Go field order, <c>"PublicIPv6":null</c> always present,
    /// BackendType/BackendData/BackendV6Data omitted when empty, raw data compacted as Go's encoder does.
    /// </summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false }))
        {
            w.WriteStartObject();
            w.WriteString(nameof(PublicIP), PublicIP.ToString());
            if (PublicIPv6 is { } v6)
            {
                w.WriteString(nameof(PublicIPv6), v6.ToString());
            }
            else
            {
                w.WriteNull(nameof(PublicIPv6));
            }
            if (!string.IsNullOrEmpty(BackendType))
            {
                w.WriteString(nameof(BackendType), BackendType);
            }
            WriteRaw(w, nameof(BackendData), BackendData);
            WriteRaw(w, nameof(BackendV6Data), BackendV6Data);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteRaw(Utf8JsonWriter w, string name, string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return;
        }
        using var doc = JsonDocument.Parse(raw);
        w.WritePropertyName(name);
        doc.RootElement.WriteTo(w); // re-emitted without indentation, like Go's compact()
    }

    /// <summary>
    /// Decodes a lease value with Go <c>encoding/json</c> rules (case-insensitive names, unknown fields ignored,
    /// missing fields zero). Throws <see cref="LeaseDecodeException"/> for what flanneld cannot decode, and also for an
    /// IPv6 PublicIP, which makes flanneld v0.20 panic.
    /// </summary>
    public static LeaseAttrs FromJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var attrs = FromJsonCore(utf8);
            _ = attrs.ToJson(); // what we cannot write back (a lone surrogate inside BackendData) is not a lease either
            return attrs;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Invalid UTF-8 or an escaped lone surrogate: System.Text.Json refuses to turn it into a .NET string.
            throw new LeaseDecodeException($"lease value holds text that is not valid Unicode: {e.Message}", e);
        }
    }

    private static LeaseAttrs FromJsonCore(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxValueBytes)
        {
            throw new LeaseDecodeException($"lease value is {utf8.Length} bytes, more than the {MaxValueBytes} a flannel lease can need");
        }
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new LeaseDecodeException($"lease value is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new LeaseDecodeException("lease value is not a JSON object");
            }
            Ip4Address publicIp = default;
            Ip6Address? publicIpv6 = null;
            string? type = null, data = null, data6 = null;
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name.Equals("PublicIP", StringComparison.OrdinalIgnoreCase))
                {
                    publicIp = ReadIp4(p.Value);
                }
                else if (p.Name.Equals("PublicIPv6", StringComparison.OrdinalIgnoreCase))
                {
                    publicIpv6 = p.Value.ValueKind == JsonValueKind.Null ? null : ReadIp6(p.Value);
                }
                else if (p.Name.Equals("BackendType", StringComparison.OrdinalIgnoreCase))
                {
                    type = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString(),
                        JsonValueKind.Null => null,
                        _ => throw new LeaseDecodeException("BackendType is not a string"),
                    };
                }
                else if (p.Name.Equals("BackendData", StringComparison.OrdinalIgnoreCase))
                {
                    data = RawOrNull(p.Value);
                }
                else if (p.Name.Equals("BackendV6Data", StringComparison.OrdinalIgnoreCase))
                {
                    data6 = RawOrNull(p.Value);
                }
            }
            return new LeaseAttrs(publicIp, publicIpv6, string.IsNullOrEmpty(type) ? null : type, data, data6);
        }
    }

    /// <summary>A flannel lease value is a few hundred bytes; anything this large is not one.</summary>
    public const int MaxValueBytes = 64 * 1024;

    private static string? RawOrNull(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetRawText();

    private static Ip4Address ReadIp4(JsonElement e)
    {
        string s = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
        if (Ip4Address.TryParse(s, out var ip))
        {
            return ip;
        }
        throw new LeaseDecodeException(Ip6Address.TryParse(s, out _)
            ? $"PublicIP is an IPv6 address ({s}); IPv6 belongs in PublicIPv6"
            : $"PublicIP is not an IPv4 address: \"{s}\"");
    }

    private static Ip6Address ReadIp6(JsonElement e)
    {
        string s = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
        return Ip6Address.TryParse(s, out var ip) ? ip : throw new LeaseDecodeException($"PublicIPv6 is not an IPv6 address: \"{s}\"");
    }
}
