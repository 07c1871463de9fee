using System.Net.NetworkInformation;
using System.Text.Json;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// The BackendData of a vxlan lease, <c>{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}</c> exactly as flanneld writes it
/// (Go struct order, lower-case MAC).
/// </summary>
public sealed record VxlanBackendData(uint Vni, PhysicalAddress VtepMac)
{
    public string ToJson() => $"{{\"VNI\":{Vni},\"VtepMAC\":\"{FormatMac(VtepMac)}\"}}";

    /// <summary>Reads a peer's BackendData; null when it is missing or malformed (the peer is then ignored).</summary>
    public static VxlanBackendData? TryParse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !TryGet(root, "VtepMAC", out var macText) || macText.ValueKind != JsonValueKind.String ||
                !TryParseMac(macText.GetString()!, out var mac))
            {
                return null;
            }
            uint vni = TryGet(root, "VNI", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetUInt32(out uint n) ? n : 0;
            return new VxlanBackendData(vni, mac);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string FormatMac(PhysicalAddress mac) => string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Go's net.ParseMAC for the 6-byte colon or dash forms.</summary>
    public static bool TryParseMac(string text, out PhysicalAddress mac)
    {
        mac = PhysicalAddress.None;
        var parts = text.Split(':', '-');
        if (parts.Length != 6)
        {
            return false;
        }
        var bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], System.Globalization.NumberStyles.HexNumber, null, out bytes[i]))
            {
                return false;
            }
        }
        mac = new PhysicalAddress(bytes);
        return true;
    }

    // Go's decoder matches keys case-insensitively.
    private static bool TryGet(JsonElement o, string name, out JsonElement value)
    {
        foreach (var p in o.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = p.Value;
                return true;
            }
        }
        value = default;
        return false;
    }
}
