using Flannel.Subnet.Ip;

namespace Flannel.Backends.Routing;

/// <summary>An IPv4 route of the main table as route-based backends see it.</summary>
public sealed record RouteSpec(Ip4Network Destination, Ip4Address? Gateway, int LinkIndex)
{
    public override string ToString() => Gateway is { } gw ? $"{Destination} via {gw} dev #{LinkIndex}" : $"{Destination} dev #{LinkIndex}";
}
