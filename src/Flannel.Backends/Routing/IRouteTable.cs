namespace Flannel.Backends.Routing;

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
