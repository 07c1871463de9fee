using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

[NeedsRoot]
public class NeighbourWatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Deleted_fdb_and_arp_entries_arrive_as_neighbour_events()
    {
        using var bed = VxlanBed.Create();
        using var watcher = bed.Bed.Ns.Run(() => NetlinkWatcher.Open(NetlinkGroups.Neighbours));
        using var timeout = new CancellationTokenSource(Timeout);
        await using var events = watcher.ReadEventsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var seen = new List<NetlinkEvent>();
        var mac = PhysicalAddress.Parse("86-23-78-A5-D8-BE");
        var peerNet = Ip4Address.Parse("10.5.2.0");

        bed.Rtnl.ReplaceFdb(bed.Index, mac, NamespaceBed.Peer);
        var fdbAdded = await NextAsync(events, e => e.Family == 7 && !e.Deleted, seen);
        bed.Bed.Ns.Exec("bridge", "fdb", "del", "86:23:78:a5:d8:be", "dev", VxlanBed.Name, "dst", "198.51.100.2", "self");
        var fdbDeleted = await NextAsync(events, e => e.Family == 7 && e.Deleted, seen);
        bed.Rtnl.ReplaceNeighbour(bed.Index, peerNet, mac);
        var arpAdded = await NextAsync(events, e => e.Family == 2 && !e.Deleted, seen);
        bed.Bed.Ns.Ip("neigh", "del", "10.5.2.0", "dev", VxlanBed.Name);
        var arpDeleted = await NextAsync(events, e => e.Family == 2 && e.Deleted, seen);

        Assert.Equal(new NeighbourEvent(false, bed.Index, 7, NamespaceBed.Peer, mac), fdbAdded);
        Assert.Equal(new NeighbourEvent(true, bed.Index, 7, NamespaceBed.Peer, mac), fdbDeleted);
        Assert.Equal(new NeighbourEvent(false, bed.Index, 2, peerNet, mac), arpAdded);
        // A deleted ARP entry is reported after it turned invalid: the kernel leaves its lladdr out (neigh_fill_info).
        Assert.Equal(new NeighbourEvent(true, bed.Index, 2, peerNet, null), arpDeleted);
    }

    private static async Task<NeighbourEvent> NextAsync(
        IAsyncEnumerator<NetlinkEvent> events, Func<NeighbourEvent, bool> match, List<NetlinkEvent> seen)
    {
        try
        {
            while (await events.MoveNextAsync())
            {
                seen.Add(events.Current);
                if (events.Current is NeighbourEvent wanted && match(wanted))
                {
                    return wanted;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        Assert.Fail($"no matching NeighbourEvent within {Timeout.TotalSeconds} s; saw {seen.Count}: {string.Join("; ", seen.TakeLast(10))}");
        return null!;
    }
}
