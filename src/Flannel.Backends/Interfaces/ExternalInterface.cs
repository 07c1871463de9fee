using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>The chosen external interface: where peers' traffic arrives and what is published as PublicIP.</summary>
public sealed record ExternalInterface(string Name, int Index, int Mtu, Ip4Address Address, Ip4Address PublicIP)
{
    /// <summary>Why this interface was chosen, for the log.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The interface's IPv6 address flannel uses (EnableIPv6 only), as flanneld's IfaceV6Addr.</summary>
    public Ip6Address? Address6 { get; init; }

    /// <summary>What the lease publishes as PublicIPv6: <c>--public-ipv6</c>, else <see cref="Address6"/>.</summary>
    public Ip6Address? PublicIPv6 { get; init; }
}
