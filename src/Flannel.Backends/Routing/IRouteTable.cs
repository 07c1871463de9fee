using Flannel.Subnet.Ip;

namespace Flannel.Backends.Routing;

/// <summary>An IPv4 route of the main table as route-based backends see it.</summary>
public sealed record RouteSpec(Ip4Network Destination, Ip4Address? Gateway, int LinkIndex)
{
    public override string ToString() => Gateway is { } gw ? $"{Destination} via {gw} dev #{LinkIndex}" : $"{Destination} dev #{LinkIndex}";
}

/// <summary>A change in the kernel's routes; <see cref="Overflow"/> means events were lost (ENOBUFS): resync everything.</summary>
public sealed record RouteChange(bool Deleted, RouteSpec? Route, bool Overflow = false);

/// <summary>The kernel's IPv4 main routing table (rtnetlink in production, a fake in unit tests).</summary>
public interface IRouteTable : IDisposable
{
    IReadOnlyList<RouteSpec> List();

    /// <summary>Adds the route, replacing one with the same destination and metric.</summary>
    void Replace(RouteSpec route);

    /// <summary>Deletes the route; a route that is already gone is not an error.</summary>
    void Delete(RouteSpec route);

    IAsyncEnumerable<RouteChange> WatchAsync(CancellationToken ct);
}
