using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>What interface selection needs to know about the host (the real one reads the kernel).</summary>
public interface IInterfaceSource
{
    IReadOnlyList<InterfaceCandidate> List();

    /// <summary>The interface of the IPv4 default route, if there is one.</summary>
    string? DefaultRouteInterface();

    /// <summary>The interface the kernel would use to reach <paramref name="destination"/>, of either family (<c>ip route get</c>).</summary>
    string? InterfaceToReach(IpAddress destination);
}
