using System.Runtime.CompilerServices;
using Flannel.Backends.Netlink;

namespace Flannel.Backends.Routing;

/// <summary>The kernel's IPv4 main table over rtnetlink.</summary>
public sealed class NetlinkRouteTable : IRouteTable
{
    private const int ENOENT = 2, ESRCH = 3;
    private readonly RouteNetlink _rtnl;
    private readonly Lock _lock = new();

    private NetlinkRouteTable(RouteNetlink rtnl) => _rtnl = rtnl;

    public static IRouteTable Open() => new NetlinkRouteTable(RouteNetlink.Open());

    public IReadOnlyList<RouteSpec> List()
    {
        lock (_lock)
        {
            return [.. _rtnl.ListRoutes().Where(r => r.Table == RouteTable.Main).Select(ToSpec)];
        }
    }

    public void Replace(RouteSpec route)
    {
        lock (_lock)
        {
            _rtnl.ReplaceRoute(ToRoute(route));
        }
    }

    public void Delete(RouteSpec route)
    {
        try
        {
            lock (_lock)
            {
                _rtnl.DeleteRoute(ToRoute(route));
            }
        }
        catch (NetlinkException e) when (e.Errno is ESRCH or ENOENT)
        {
            // Already gone: deleting is idempotent.
        }
    }

    public async IAsyncEnumerable<RouteChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var watcher = NetlinkWatcher.Open(NetlinkGroups.Ipv4Routes);
        await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
        {
            switch (e)
            {
                case RouteEvent { Route.Table: RouteTable.Main } r:
                    yield return new RouteChange(r.Deleted, ToSpec(r.Route));
                    break;
                case EventsLost:
                    yield return new RouteChange(false, null, Overflow: true);
                    break;
            }
        }
    }

    private static RouteSpec ToSpec(Route r) => new(r.Destination, r.Gateway, r.LinkIndex);

    private static Route ToRoute(RouteSpec s) =>
        s.Gateway is { } gw ? Route.Via(s.Destination, gw, s.LinkIndex) : Route.Direct(s.Destination, s.LinkIndex);

    public void Dispose() => _rtnl.Dispose();
}
