using Flannel.Backends.Netlink;

namespace Flannel.Backends.HostGw;

/// <summary>The kernel's IPv4 main routing table as host-gw uses it (rtnetlink in production, a fake in unit tests).</summary>
internal interface IRouteTable : IDisposable
{
    IReadOnlyList<Route> List();

    /// <summary>Adds the route, replacing one with the same destination and metric.</summary>
    void Replace(Route route);

    /// <summary>Deletes the route; a route that is already gone is not an error.</summary>
    void Delete(Route route);

    IAsyncEnumerable<RouteChange> WatchAsync(CancellationToken ct);
}
