using System.Diagnostics;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using Xunit.Abstractions;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

[NeedsRoot]
public class BatchTests(ITestOutputHelper output)
{
    private const int Peers = 2000;

    [Fact]
    public void Programs_and_removes_2000_peers_neighbour_fdb_and_route_in_one_call_each()
    {
        using var bed = VxlanBed.Create();
        var add = new List<NetlinkRequest>(3 * Peers);
        var remove = new List<NetlinkRequest>(3 * Peers);
        for (int n = 0; n < Peers; n++)
        {
            // flannel's order per peer: ARP entry, FDB entry, route.
            add.Add(NetlinkRequest.ReplaceNeighbour(bed.Index, VxlanBed.PeerNet(n), VxlanBed.Mac(n)));
            add.Add(NetlinkRequest.ReplaceFdb(bed.Index, VxlanBed.Mac(n), VxlanBed.PeerIp(n)));
            add.Add(NetlinkRequest.ReplaceRoute(PeerRoute(bed, n)));
            remove.Add(NetlinkRequest.DeleteNeighbour(bed.Index, VxlanBed.PeerNet(n)));
            remove.Add(NetlinkRequest.DeleteFdb(bed.Index, VxlanBed.Mac(n), VxlanBed.PeerIp(n)));
            remove.Add(NetlinkRequest.DeleteRoute(PeerRoute(bed, n)));
        }

        var watch = Stopwatch.StartNew();
        var added = bed.Rtnl.Batch(add);
        var addTime = watch.Elapsed;

        Assert.Equal(add.Count, added.Count);
        Assert.All(added, Assert.Null);
        output.WriteLine($"batch of {add.Count} adds (neighbour + fdb + route per peer): {addTime.TotalMilliseconds:F0} ms");
        Assert.True(addTime < TimeSpan.FromSeconds(2), $"{add.Count} entries took {addTime}");

        var neighbours = bed.Rtnl.ListNeighbours(bed.Index);
        var fdb = bed.Rtnl.ListFdb(bed.Index);
        var routes = bed.Rtnl.ListRoutes().Where(r => r.LinkIndex == bed.Index).ToList();
        Assert.Equal(
            Enumerable.Range(0, Peers).Select(n => new Neighbour(bed.Index, VxlanBed.PeerNet(n), VxlanBed.Mac(n), Neighbour.NudPermanent)),
            neighbours.OrderBy(x => x.Address));
        Assert.Equal(
            Enumerable.Range(0, Peers).Select(n => (VxlanBed.Mac(n), (IpAddress?)VxlanBed.PeerIp(n))),
            fdb.OrderBy(e => e.Mac.GetAddressBytes()[4] * 256 + e.Mac.GetAddressBytes()[5]).Select(e => (e.Mac, e.Destination)));
        Assert.Equal(Enumerable.Range(0, Peers).Select(n => PeerRoute(bed, n)), routes.OrderBy(r => r.Destination.Ip));
        Assert.Equal(Peers, bed.Lines("route", "show", "dev", VxlanBed.Name).Length);
        Assert.Contains("10.5.7.0/24 via 10.5.7.0 dev flannel.1 onlink", bed.Bed.IpRoutes());
        Assert.Contains("10.5.7.0 lladdr 02:42:0a:05:00:07 PERMANENT", bed.Lines("neigh", "show", "dev", VxlanBed.Name));
        Assert.Contains("02:42:0a:05:00:07 dst 198.51.100.9 self permanent", bed.BridgeLines("fdb", "show", "dev", VxlanBed.Name));
        Assert.Equal(Peers, bed.Lines("neigh", "show", "dev", VxlanBed.Name).Length);
        Assert.Equal(Peers, bed.BridgeLines("fdb", "show", "dev", VxlanBed.Name).Length);

        watch.Restart();
        var removed = bed.Rtnl.Batch(remove);
        var removeTime = watch.Elapsed;

        Assert.All(removed, Assert.Null);
        output.WriteLine($"batch of {remove.Count} deletes: {removeTime.TotalMilliseconds:F0} ms");
        Assert.Empty(bed.Rtnl.ListNeighbours(bed.Index));
        Assert.Empty(bed.Rtnl.ListFdb(bed.Index));
        Assert.Empty(bed.Lines("route", "show", "dev", VxlanBed.Name));
    }

    [Fact]
    public void One_bad_request_fails_at_its_index_and_the_others_succeed()
    {
        using var bed = VxlanBed.Create();
        var requests = Enumerable.Range(0, 200).Select(n => NetlinkRequest.ReplaceRoute(PeerRoute(bed, n))).ToList();
        const int Bad = 137;
        // A gateway on a link index that does not exist.
        var badRoute = Route.Via(Ip4Network.ParseCidr("10.99.0.0/24"), NamespaceBed.Peer, 9999);
        requests[Bad] = NetlinkRequest.ReplaceRoute(badRoute);

        // What the single request throws for it (ENETUNREACH "Nexthop has invalid gateway" here: the gateway is
        // looked up through a link that does not exist).
        var single = Assert.Throws<NetlinkException>(() => bed.Rtnl.ReplaceRoute(badRoute));

        var results = bed.Rtnl.Batch(requests);

        Assert.Equal(200, results.Count);
        for (int i = 0; i < results.Count; i++)
        {
            if (i == Bad)
            {
                Assert.NotNull(results[i]);
                Assert.Equal(single.Errno, results[i]!.Errno);
                Assert.Equal(single.Message, results[i]!.Message);
                Assert.Equal($"replace route {badRoute}", results[i]!.Operation);
                output.WriteLine(results[i]!.Message);
            }
            else
            {
                Assert.Null(results[i]);
            }
        }
        Assert.Equal(199, bed.Lines("route", "show", "dev", VxlanBed.Name).Length);
    }

    [Fact]
    public void Failures_of_every_kind_are_reported_in_order_and_an_empty_batch_is_empty()
    {
        using var bed = VxlanBed.Create();

        var results = bed.Rtnl.Batch(
        [
            NetlinkRequest.DeleteNeighbour(bed.Index, VxlanBed.PeerNet(1)),
            NetlinkRequest.ReplaceNeighbour(bed.Index, VxlanBed.PeerNet(1), VxlanBed.Mac(1)),
            NetlinkRequest.DeleteFdb(bed.Index, VxlanBed.Mac(1), VxlanBed.PeerIp(1)),
            NetlinkRequest.ReplaceFdb(bed.Index, VxlanBed.Mac(1), VxlanBed.PeerIp(1)),
            NetlinkRequest.DeleteRoute(PeerRoute(bed, 1)),
            NetlinkRequest.ReplaceRoute(PeerRoute(bed, 1)),
        ]);

        Assert.Equal([2, 0, 2, 0, 3, 0], results.Select(e => e?.Errno ?? 0));  // ENOENT, ENOENT, ESRCH
        Assert.Empty(bed.Rtnl.Batch([]));
        Assert.Single(bed.Rtnl.ListNeighbours(bed.Index));
        Assert.Single(bed.Rtnl.ListFdb(bed.Index));
    }

    private static Route PeerRoute(VxlanBed bed, int n) =>
        Route.Via(new Ip4Network(VxlanBed.PeerNet(n), 24), VxlanBed.PeerNet(n), bed.Index, onLink: true);
}
