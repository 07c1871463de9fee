using System.Text.Json;

namespace Flannel.Backends.Udp;

/// <summary>The udp backend's keys of the config's Backend object (compat §6): <c>Port</c>, default 8285.</summary>
public sealed record UdpOptions(ushort Port)
{
    public const ushort DefaultPort = 8285;

    /// <exception cref="BackendException">Port is not a number in 0..65535 (0 means the default, as in flanneld).</exception>
    public static UdpOptions Parse(string backendJson)
    {
        using var doc = JsonDocument.Parse(backendJson);
        ushort port = DefaultPort;
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(nameof(Port), out var p))
        {
            if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out int value) || value is < 0 or > 65535)
            {
                throw new BackendException($"udp backend: Port must be a number from 1 to 65535 (0 or absent: the default 8285), got {p.GetRawText()}");
            }
            if (value != 0)
            {
                port = (ushort)value;
            }
        }
        return new UdpOptions(port);
    }
}
