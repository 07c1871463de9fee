using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class WatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_route_deleted_with_ip_route_del_arrives_as_a_deleted_event()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        using var watcher = bed.Ns.Run(() => NetlinkWatcher.Open(NetlinkGroups.Ipv4Routes));
        var route = Route.Via(Ip4Network.ParseCidr("10.5.9.0/24"), NamespaceBed.Peer, bed.Veth0);
        using var timeout = new CancellationTokenSource(Timeout);
        await using var events = watcher.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var seen = new List<NetlinkEvent>();

        bed.Rtnl.AddRoute(route);
        var added = await NextAsync<RouteEvent>(events, e => e.Route.Destination == route.Destination, seen);
        bed.Ns.Ip("route", "del", "10.5.9.0/24");
        var deleted = await NextAsync<RouteEvent>(events, e => e.Deleted, seen);

        Assert.False(added.Deleted);
        Assert.Equal(route, added.Route);
        Assert.Equal(route, deleted.Route);
    }

    [Fact]
    public async Task Link_changes_arrive_as_link_events()
    {
        using var bed = NamespaceBed.Create();
        using var watcher = bed.Ns.Run(() => NetlinkWatcher.Open(NetlinkGroups.Links | NetlinkGroups.Ipv4Addresses));
        using var timeout = new CancellationTokenSource(Timeout);
        await using var events = watcher.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var seen = new List<NetlinkEvent>();

        bed.Ns.Ip("link", "set", "veth1", "mtu", "1400");
        var changed = await NextAsync<LinkEvent>(events, e => e.Link.Mtu == 1400, seen);
        bed.Ns.Ip("addr", "add", "198.51.100.7/24", "dev", "veth1");
        var address = await NextAsync<AddressEvent>(events, _ => true, seen);
        bed.Ns.Ip("link", "del", "veth1");
        var deleted = await NextAsync<LinkEvent>(events, e => e.Deleted, seen);

        Assert.Equal(bed.Veth1, changed.Link.Index);
        Assert.Equal("veth1", changed.Link.Name);
        Assert.Equal(new AddressEvent(false, new AddressInfo(bed.Veth1, new Ip4Network(Ip4Address.Parse("198.51.100.7"), 24), RouteScope.Universe, "veth1")), address);
        // Deleting one end of a veth pair deletes both.
        Assert.Contains(deleted.Link.Name, new[] { "veth0", "veth1" });
    }

    [Fact]
    public async Task A_full_queue_surfaces_as_EventsLost_and_the_stream_goes_on()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        // The smallest receive buffer the kernel allows (a few KiB): a burst of route changes cannot fit.
        using var watcher = bed.Ns.Run(() => NetlinkWatcher.Open(NetlinkGroups.Ipv4Routes, receiveBufferBytes: 1));
        for (int i = 0; i < 500; i++)
        {
            bed.Rtnl.AddRoute(Route.Direct(new Ip4Network(new Ip4Address(0x0A80_0000u + ((uint)i << 8)), 24), bed.Veth0));
        }
        using var timeout = new CancellationTokenSource(Timeout);
        await using var events = watcher.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var seen = new List<NetlinkEvent>();

        await NextAsync<EventsLost>(events, _ => true, seen);
        // The kernel keeps dropping notifications until the reader has drained what was queued (netlink_rcv_wake()
        // clears NETLINK_S_CONGESTED only on an empty queue), so keep changing routes, as a live system would, until
        // a change made after the overflow is seen.
        var laterRoutes = Ip4Network.ParseCidr("10.200.0.0/16");
        var later = NextAsync<RouteEvent>(events, e => ((IpNetwork)laterRoutes).Contains(e.Route.Destination), seen);
        for (uint i = 0; i < 100 && !later.IsCompleted; i++)
        {
            bed.Rtnl.AddRoute(Route.Direct(new Ip4Network(new Ip4Address(laterRoutes.Ip.Value + (i << 8)), 24), bed.Veth0));
            await Task.WhenAny(later, Task.Delay(100));
        }
        var after = await later;

        Assert.True(seen.Count(e => e is RouteEvent r && !((IpNetwork)laterRoutes).Contains(r.Route.Destination)) < 500,
            "some of the burst's events must have been dropped");
        Assert.False(after.Deleted);
    }

    [Fact]
    public async Task Cancelling_ends_the_stream_with_OperationCanceledException()
    {
        using var bed = NamespaceBed.Create();
        using var watcher = bed.Ns.Run(() => NetlinkWatcher.Open(NetlinkGroups.Ipv4Routes));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var unused in watcher.ReadEventsAsync(cancel.Token))
            {
            }
        });
    }

    /// <summary>The next event of type <typeparamref name="T"/> matching; fails listing what came instead.</summary>
    private static async Task<T> NextAsync<T>(IAsyncEnumerator<NetlinkEvent> events, Func<T, bool> match, List<NetlinkEvent> seen)
        where T : NetlinkEvent
    {
        try
        {
            while (await events.MoveNextAsync())
            {
                seen.Add(events.Current);
                if (events.Current is T wanted && match(wanted))
                {
                    return wanted;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        Assert.Fail($"no matching {typeof(T).Name} within {Timeout.TotalSeconds} s; saw {seen.Count}: {string.Join("; ", seen.TakeLast(10))}");
        return null!;
    }
}
