using Flannel.Subnet.Ip;

namespace Flannel.Backends.Host;

/// <summary>A network interface of this host with its IPv4 addresses in the kernel's order.</summary>
public sealed record HostInterface(string Name, int Index, int Mtu, IReadOnlyList<Ip4Address> Addresses);

/// <summary>What interface selection needs to know about the host (the real one reads the kernel).</summary>
public interface IHostInterfaces
{
    IReadOnlyList<HostInterface> List();

    /// <summary>The interface of the IPv4 default route, if there is one.</summary>
    string? DefaultRouteInterface();

    /// <summary>The interface the kernel would use to reach <paramref name="destination"/> (<c>ip route get</c>).</summary>
    string? InterfaceToReach(Ip4Address destination);
}

/// <summary>The chosen external interface: where peers' traffic arrives and what is published as PublicIP.</summary>
public sealed record ExternalInterface(string Name, int Index, int Mtu, Ip4Address Address, Ip4Address PublicIP)
{
    /// <summary>Why this interface was chosen, for the log.</summary>
    public string Reason { get; init; } = "";
}
