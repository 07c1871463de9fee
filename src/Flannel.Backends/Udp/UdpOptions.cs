using System.Text.Json;

namespace Flannel.Backends.Udp;

/// <summary>The udp backend's keys of the config's Backend object (compat §6): <c>Port</c>, default 8285.</summary>
public sealed record UdpOptions(ushort Port)
{
    public const ushort DefaultPort = 8285;

    /// <summary>The Backend keys the udp backend reads (flanneld v0.28.9 <c>pkg/backend/udp</c>).</summary>
    public static IReadOnlyList<string> Keys { get; } = ["Type", "Port"];

    /// <exception cref="BackendException">Port is not a number in 0..65535 (0 means the default, as in flanneld).</exception>
    public static UdpOptions Parse(string backendJson)
    {
        using var doc = JsonDocument.Parse(backendJson);
        ushort port = DefaultPort;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return new UdpOptions(port);
        }
        // Go's decoder matches keys case-insensitively and the last one wins: "port" is Port to flanneld.
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (!string.Equals(p.Name, nameof(Port), StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int value) || value is < 0 or > 65535)
            {
                throw new BackendException($"udp backend: Port must be a number from 1 to 65535 (0 or absent: the default 8285), got {p.Value.GetRawText()}");
            }
            port = value == 0 ? DefaultPort : (ushort)value;
        }
        return new UdpOptions(port);
    }
}
