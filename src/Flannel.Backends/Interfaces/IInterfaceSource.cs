using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>What interface selection needs to know about the host (the real one reads the kernel).</summary>
public interface IInterfaceSource
{
    IReadOnlyList<InterfaceCandidate> List();

    /// <summary>The interface of the IPv4 default route, if there is one.</summary>
    string? DefaultRouteInterface();

    /// <summary>The interface the kernel would use to reach <paramref name="destination"/> (<c>ip route get</c>).</summary>
    string? InterfaceToReach(Ip4Address destination);

    /// <summary>The interface the kernel would use to reach an IPv6 <paramref name="destination"/> (<c>ip -6 route get</c>).</summary>
    string? InterfaceToReach(Ip6Address destination);
}
