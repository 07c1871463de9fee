namespace Flannel.Backends.Interfaces;

public sealed record InterfaceOptions
{
    /// <summary><c>--iface</c>: names or addresses, tried in order.</summary>
    public IReadOnlyList<string> Ifaces { get; init; } = [];

    /// <summary><c>--iface-regex</c>: matched against addresses first, then names.</summary>
    public IReadOnlyList<string> IfaceRegexes { get; init; } = [];

    /// <summary><c>--iface-can-reach</c>: the interface used to reach this address.</summary>
    public string? IfaceCanReach { get; init; }

    /// <summary><c>--public-ip</c>: advertised instead of the interface address.</summary>
    public string? PublicIp { get; init; }

    /// <summary><c>--public-ipv6</c>: advertised instead of the interface's IPv6 address (EnableIPv6).</summary>
    public string? PublicIpv6 { get; init; }

    /// <summary>The network config enables IPv6: the interface's IPv6 address is chosen too.</summary>
    public bool Ipv6 { get; init; }
}
