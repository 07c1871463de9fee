using System.Text.Json;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// The vxlan keys of the config's Backend object (compat §7), matched case-insensitively like Go's JSON decoder:
/// VNI (default 1), Port (0 = the kernel's 8472), GBP, Learning, DirectRouting, MTU (0 = interface MTU - 50).
/// </summary>
public sealed record VxlanOptions(uint Vni, ushort Port, bool Gbp, bool Learning, bool DirectRouting, int Mtu)
{
    /// <summary>The kernel's VXLAN port when none is given (IANA's is 4789; Linux kept the pre-standard 8472).</summary>
    public const ushort KernelDefaultPort = 8472;

    /// <summary>The Backend keys the vxlan backend reads (flanneld v0.28.9 <c>VXLANConfig</c>).</summary>
    public static IReadOnlyList<string> Keys { get; } = ["Type", "VNI", "Port", "GBP", "Learning", "DirectRouting", "MTU"];

    /// <exception cref="BackendException">A key has the wrong type or an impossible value.</exception>
    public static VxlanOptions Parse(string backendJson)
    {
        using var doc = JsonDocument.Parse(backendJson);
        uint vni = 1;
        ushort port = 0;
        bool gbp = false, learning = false, direct = false;
        int mtu = 0;
        if (doc.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name.ToUpperInvariant())
                {
                    case "VNI":
                        vni = (uint)Number(p, 0, 16_777_215);
                        if (vni == 0)
                        {
                            vni = 1; // flanneld: 0 means the default
                        }
                        break;
                    case "PORT":
                        port = (ushort)Number(p, 0, 65535);
                        break;
                    case "GBP":
                        gbp = Bool(p);
                        break;
                    case "LEARNING":
                        learning = Bool(p);
                        break;
                    case "DIRECTROUTING":
                        direct = Bool(p);
                        break;
                    case "MTU":
                        mtu = (int)Number(p, 0, 65535);
                        break;
                }
            }
        }
        return new VxlanOptions(vni, port, gbp, learning, direct, mtu);
    }

    private static long Number(JsonProperty p, long min, long max) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out long v) && v >= min && v <= max
            ? v
            : throw new BackendException($"vxlan backend: {p.Name} must be a number from {min} to {max}, got {p.Value.GetRawText()}");

    private static bool Bool(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new BackendException($"vxlan backend: {p.Name} must be true or false, got {p.Value.GetRawText()}"),
    };
}
