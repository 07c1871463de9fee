namespace Flannel.Backends;

/// <summary>
/// The backend types this daemon provides, looked up the way flanneld does: the config's <c>Backend.Type</c>
/// lower-cased (<c>backend/manager.go</c>), so "VXLAN" works; anything else is flanneld's "unknown backend type".
/// </summary>
public static class BackendTypes
{
    public const string Udp = "udp";
    public const string Vxlan = "vxlan";
    public const string HostGw = "host-gw";

    public static IReadOnlyList<string> Supported { get; } = [Udp, Vxlan, HostGw];

    /// <summary>The lower-case type name, or null when this daemon has no such backend.</summary>
    public static string? Normalize(string type)
    {
        string lower = type.ToLowerInvariant();
        return Supported.Contains(lower) ? lower : null;
    }

    /// <summary>flanneld's wording, followed by what would work.</summary>
    public static string UnknownTypeMessage(string type) =>
        $"unknown backend type: {type} (supported: {string.Join(", ", Supported)})";
}
