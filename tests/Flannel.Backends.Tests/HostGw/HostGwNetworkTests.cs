using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Flannel.Backends.Interfaces;
using Flannel.Backends.HostGw;
using Flannel.Backends.Netlink;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Backends.Tests.HostGw;

[Unit]
public class HostGwNetworkTests
{
    /// <summary>A routing table in memory that records operations and can report deletions like the kernel.</summary>
    private sealed class FakeTable : IRouteTable
    {
        public List<Route> Routes { get; } = [];
        public List<string> Operations { get; } = [];
        public Channel<RouteChange> Changes { get; } = Channel.CreateUnbounded<RouteChange>();

        public IReadOnlyList<Route> List(IpFamily family)
        {
            lock (Routes)
            {
                return [.. Routes.Where(r => r.Family == family)];
            }
        }

        public IReadOnlyList<Route> List() => List(IpFamily.Ip4);

        public void Replace(Route route)
        {
            lock (Routes)
            {
                Routes.RemoveAll(r => r.Destination == route.Destination);
                Routes.Add(route);
                Operations.Add("replace " + route);
            }
        }

        public void Delete(Route route)
        {
            lock (Routes)
            {
                Routes.Remove(route);
                Operations.Add("delete " + route);
            }
        }

        public void DeleteBehindOurBack(Route route)
        {
            lock (Routes)
            {
                Routes.Remove(route);
            }
            Changes.Writer.TryWrite(new RouteChange(true, route));
        }

        public async IAsyncEnumerable<RouteChange> WatchAsync([EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var c in Changes.Reader.ReadAllAsync(ct))
            {
                yield return c;
            }
        }

        public void Dispose() { }
    }

    private static readonly ExternalInterface Eth0 = new("eth0", 2, 1500, Ip4Address.Parse("198.51.100.1"), Ip4Address.Parse("198.51.100.1"));

    private static BackendContext Context(ExternalInterface? iface = null) =>
        new(iface ?? Eth0, NetworkConfigParser.Parse("""{"Network":"10.60.0.0/16","Backend":{"Type":"host-gw"}}"""), NullLoggerFactory.Instance);

    private static LeaseEvent Peer(LeaseEventKind kind, string key, string ip, string? type = "host-gw") =>
        new(kind, new Lease(SubnetKeyCodec.TryParse(key, out var k) ? k : default, new LeaseAttrs(Ip4Address.Parse(ip), BackendType: type), 1, 1));

    private static async Task<(IBackendNetwork Network, FakeTable Table)> RegisterAsync()
    {
        var table = new FakeTable();
        var network = await new HostGwBackend(Context(), () => table).RegisterNetworkAsync(CancellationToken.None);
        return (network, table);
    }

    [Fact]
    public async Task Publishes_host_gw_attrs_and_the_interface_mtu()
    {
        var (network, _) = await RegisterAsync();
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":null,"BackendType":"host-gw"}""", network.LeaseAttrs.ToJson());
        Assert.Equal(1500, network.Mtu);
    }

    [Fact]
    public async Task Publishes_the_interface_s_PublicIPv6_when_the_network_enables_IPv6()
    {
        var dual = Eth0 with { Address6 = Ip6Address.Parse("2001:db8:100::1"), PublicIPv6 = Ip6Address.Parse("2001:db8:100::1") };
        var network = await new HostGwBackend(Context(dual), () => new FakeTable()).RegisterNetworkAsync(CancellationToken.None);
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":"2001:db8:100::1","BackendType":"host-gw"}""", network.LeaseAttrs.ToJson());
    }

    [Fact]
    public async Task Refuses_a_public_ip_that_is_not_the_interface_address_with_flanneld_wording()
    {
        var natted = Eth0 with { PublicIP = Ip4Address.Parse("203.0.113.9") };
        var e = await Assert.ThrowsAsync<BackendException>(() => new HostGwBackend(Context(natted), () => new FakeTable()).RegisterNetworkAsync(CancellationToken.None));
        Assert.StartsWith("your PublicIP differs from interface IP", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peer_routes_are_added_replaced_when_different_and_removed()
    {
        var (network, table) = await RegisterAsync();
        var stale = Route.Via(Ip4Network.ParseCidr("10.60.5.0/24"), Ip4Address.Parse("198.51.100.99"), 2);
        table.Routes.Add(stale);

        await network.HandlePeersAsync([Peer(LeaseEventKind.Added, "10.60.5.0-24", "198.51.100.5"), Peer(LeaseEventKind.Added, "10.60.6.0-24", "198.51.100.6")], CancellationToken.None);
        Assert.Equal(["10.60.5.0/24 via 198.51.100.5 dev #2", "10.60.6.0/24 via 198.51.100.6 dev #2"], table.List().Select(r => r.ToString()).Order());
        Assert.Contains("delete " + stale, table.Operations);

        // The same lease again changes nothing.
        int ops = table.Operations.Count;
        await network.HandlePeersAsync([Peer(LeaseEventKind.Added, "10.60.5.0-24", "198.51.100.5")], CancellationToken.None);
        Assert.Equal(ops, table.Operations.Count);

        await network.HandlePeersAsync([Peer(LeaseEventKind.Removed, "10.60.5.0-24", "198.51.100.5")], CancellationToken.None);
        Assert.Equal(["10.60.6.0/24 via 198.51.100.6 dev #2"], table.List().Select(r => r.ToString()));
    }

    [Fact]
    public async Task Peers_of_another_backend_type_are_ignored()
    {
        var (network, table) = await RegisterAsync();
        await network.HandlePeersAsync([Peer(LeaseEventKind.Added, "10.60.7.0-24", "198.51.100.7", "vxlan"), Peer(LeaseEventKind.Added, "10.60.8.0-24", "198.51.100.8", null)], CancellationToken.None);
        Assert.Empty(table.List());
    }

    [Fact]
    public async Task A_route_deleted_by_someone_else_is_restored_by_the_event_and_by_reconcile()
    {
        var (network, table) = await RegisterAsync();
        await network.HandlePeersAsync([Peer(LeaseEventKind.Added, "10.60.9.0-24", "198.51.100.9")], CancellationToken.None);
        var route = Assert.Single(table.List());

        using var cts = new CancellationTokenSource();
        var run = network.RunAsync(cts.Token);
        try
        {
            table.DeleteBehindOurBack(route);
            await Flannel.TestSupport.Wait.UntilAsync(() => table.List().Contains(route), TimeSpan.FromSeconds(5), "route restored after the deletion event");
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }

        lock (table.Routes)
        {
            table.Routes.Clear(); // no event this time: only the reconcile finds it
        }
        Assert.Equal(1, await ((HostGwNetwork)network).ReconcileAsync(CancellationToken.None));
        Assert.Contains(route, table.List());
    }
}
