namespace Flannel.Backends;

/// <summary>
/// The backend registry, keyed by the config's <c>Backend.Type</c> looked up lower-cased as flanneld does
/// (<c>backend/manager.go</c>), so "HOST-GW" works; anything else is flanneld's "unknown backend type".
/// Backends register here; the daemon only asks for a type.
/// </summary>
public static class BackendTypes
{
    public const string Udp = "udp";
    public const string Vxlan = "vxlan";
    public const string HostGw = "host-gw";

    private static readonly Dictionary<string, Func<BackendContext, IBackend>> Factories = new(StringComparer.Ordinal)
    {
        [HostGw] = ctx => new HostGw.HostGwBackend(ctx),
        [Udp] = ctx => new Udp.UdpBackend(ctx),
        [Vxlan] = ctx => new Vxlan.VxlanBackend(ctx),
    };

    /// <summary>The types this daemon can run.</summary>
    public static IReadOnlyList<string> Supported { get; } = [.. Factories.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every type flannel-cs has or will have; a config naming one of these is valid for it.</summary>
    public static IReadOnlyList<string> Known { get; } = [HostGw, Udp, Vxlan];

    /// <summary>True when the type is one of <see cref="Known"/>, whether or not this build runs it yet.</summary>
    public static bool IsKnown(string type) => Known.Contains(type.ToLowerInvariant());

    /// <summary>The lower-case type name, or null when this daemon has no such backend.</summary>
    public static string? Normalize(string type)
    {
        string lower = type.ToLowerInvariant();
        return Factories.ContainsKey(lower) ? lower : null;
    }

    /// <summary>Creates the backend for a config's type.</summary>
    /// <exception cref="BackendException">flanneld's "unknown backend type" when there is none.</exception>
    public static IBackend Create(string type, BackendContext context) =>
        Normalize(type) is { } t ? Factories[t](context) : throw new BackendException(UnknownTypeMessage(type));

    /// <summary>
    /// Checks what the backend checks at start: its keys of the Backend object, and that it carries the address
    /// families the config enables (udp: IPv4 only).
    /// </summary>
    /// <exception cref="BackendException">A key has a wrong type or value, or a family the backend cannot carry.</exception>
    public static void Validate(Flannel.Subnet.Config.NetworkConfig config)
    {
        switch (Normalize(config.BackendType))
        {
            case Udp:
                Flannel.Backends.Udp.UdpBackend.CheckFamilies(config);
                _ = Flannel.Backends.Udp.UdpOptions.Parse(config.BackendJson);
                break;
            case Vxlan:
                _ = Flannel.Backends.Vxlan.VxlanOptions.Parse(config.BackendJson);
                break;
        }
    }

    /// <summary>The keys the backend reads from the Backend object (flanneld's, matched case-insensitively).</summary>
    public static IReadOnlyList<string> OptionKeys(string type) => Normalize(type) switch
    {
        Udp => Flannel.Backends.Udp.UdpOptions.Keys,
        Vxlan => Flannel.Backends.Vxlan.VxlanOptions.Keys,
        HostGw => ["Type"], // host-gw has no options in flanneld either
        _ => [],
    };

    /// <summary>
    /// Keys of the Backend object the backend does not read: ignored as flanneld ignores them, so a typo such as
    /// "DirectRoutng" silently means the default. None for a type this daemon does not have (that is an error).
    /// </summary>
    public static List<Flannel.Subnet.Config.UnknownKey> UnknownOptions(string type, string backendJson)
    {
        if (Normalize(type) is not { } t)
        {
            return [];
        }
        using var doc = System.Text.Json.JsonDocument.Parse(backendJson);
        return Flannel.Subnet.Config.UnknownKey.Find(doc.RootElement, OptionKeys(t), $"Backend ({t})");
    }

    /// <summary>flanneld's wording, followed by what would work.</summary>
    public static string UnknownTypeMessage(string type) =>
        $"unknown backend type: {type} (supported: {string.Join(", ", Supported)})";
}
