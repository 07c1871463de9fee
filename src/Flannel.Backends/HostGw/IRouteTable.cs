using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.HostGw;

/// <summary>The kernel's main routing table as host-gw uses it, both families (rtnetlink in production, a fake in unit tests).</summary>
internal interface IRouteTable : IDisposable
{
    /// <summary>The main table's routes of one family.</summary>
    IReadOnlyList<Route> List(IpFamily family);

    /// <summary>Adds the route, replacing one with the same destination and metric.</summary>
    void Replace(Route route);

    /// <summary>Deletes the route; a route that is already gone is not an error.</summary>
    void Delete(Route route);

    IAsyncEnumerable<RouteChange> WatchAsync(CancellationToken ct);
}
