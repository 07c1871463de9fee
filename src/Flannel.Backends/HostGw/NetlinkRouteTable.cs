using System.Runtime.CompilerServices;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.HostGw;

/// <summary>The kernel's main table over rtnetlink.</summary>
internal sealed class NetlinkRouteTable : IRouteTable
{
    private const int ENOENT = 2, ESRCH = 3;
    private readonly RtnetlinkClient _rtnl;
    private readonly Lock _lock = new();

    private NetlinkRouteTable(RtnetlinkClient rtnl) => _rtnl = rtnl;

    public static IRouteTable Open() => new NetlinkRouteTable(RtnetlinkClient.Open());

    public IReadOnlyList<Route> List(IpFamily family)
    {
        lock (_lock)
        {
            return [.. _rtnl.ListRoutes(family).Where(r => r.Table == RouteTable.Main)];
        }
    }

    public void Replace(Route route)
    {
        lock (_lock)
        {
            _rtnl.ReplaceRoute(route);
        }
    }

    public void Delete(Route route)
    {
        try
        {
            lock (_lock)
            {
                _rtnl.DeleteRoute(route);
            }
        }
        catch (NetlinkException e) when (e.Errno is ESRCH or ENOENT)
        {
            // Already gone: deleting is idempotent.
        }
    }

    public async IAsyncEnumerable<RouteChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var watcher = NetlinkWatcher.Open(NetlinkGroups.Ipv4Routes | NetlinkGroups.Ipv6Routes);
        await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
        {
            switch (e)
            {
                case RouteEvent { Route.Table: RouteTable.Main } r:
                    yield return new RouteChange(r.Deleted, r.Route);
                    break;
                case EventsLost:
                    yield return new RouteChange(false, null, Overflow: true);
                    break;
            }
        }
    }

    public void Dispose() => _rtnl.Dispose();
}
