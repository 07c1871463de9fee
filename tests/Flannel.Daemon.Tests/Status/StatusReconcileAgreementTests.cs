using Flannel.Backends;
using Flannel.Backends.Interfaces;
using Flannel.Backends.HostGw;
using Flannel.Backends.Netlink;
using Flannel.Backends.Vxlan;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Daemon.Tests.Status;

/// <summary>
/// <c>flanneld status</c> and the backends' reconcile loops use one desired state and one comparison: on a real
/// kernel (a namespace) broken by hand, status reports exactly the entries the reconcile then changes, one request
/// per reported drift, and reports nothing afterwards.
/// </summary>
[NeedsRoot]
public class StatusReconcileAgreementTests
{
    private static readonly Ip4Network Own = Ip4Network.ParseCidr("10.5.1.0/24");

    private static Lease Lease(string subnet, string publicIp, string type, string? data = null) =>
        new(new SubnetKey(Ip4Network.ParseCidr(subnet)), new LeaseAttrs(Ip4Address.Parse(publicIp), BackendType: type, BackendData: data), 1, 1);

    private static NetNs Underlay()
    {
        var ns = NetNs.Create();
        ns.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
        ns.Ip("addr", "add", "198.51.100.1/24", "dev", "eth0");
        ns.Ip("link", "set", "eth0", "up");
        ns.Ip("link", "set", "eth1", "up");
        return ns;
    }

    private static StatusReport Status(NetNs ns, NetworkConfig config, string? device, bool vxlan, IReadOnlyList<Lease> leases) =>
        DriftAnalyzer.Analyze(new StatusInputs(config, "/coreos.com/network/config", [.. leases.Select(l => new LeaseWithTtl(l, null))],
            new OwnHost(Own, null, "test"), ns.Run(() => KernelReader.Read(device, vxlan, [], Ip4Address.Parse("198.51.100.1")))));

    [Fact]
    public async Task Vxlan_status_reports_what_reconcile_repairs_and_nothing_after()
    {
        using var ns = Underlay();
        var config = NetworkConfigParser.Parse("""{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan","VNI":7}}""");
        int eth0 = ns.Run(() => { using var r = RtnetlinkClient.Open(); return r.GetLinkIndex("eth0"); });
        var iface = new ExternalInterface("eth0", eth0, 1500, Ip4Address.Parse("198.51.100.1"), Ip4Address.Parse("198.51.100.1"));
        var context = new BackendContext(iface, config, NullLoggerFactory.Instance) { VxlanChecksumOffload = false };
        await using var network = (VxlanNetwork)ns.Run(() => new VxlanBackend(context).RegisterNetworkAsync(CancellationToken.None).GetAwaiter().GetResult());
        Lease[] leases =
        [
            Lease("10.5.1.0/24", "198.51.100.1", "vxlan", """{"VNI":7,"VtepMAC":"0e:00:00:00:00:01"}"""),
            Lease("10.5.2.0/24", "198.51.100.2", "vxlan", """{"VNI":7,"VtepMAC":"0e:00:00:00:00:02"}"""),
            Lease("10.5.3.0/24", "198.51.100.3", "vxlan", """{"VNI":7,"VtepMAC":"0e:00:00:00:00:03"}"""),
        ];
        await network.ConfigureAsync(leases[0], CancellationToken.None);
        await network.HandlePeersAsync([.. leases[1..].Select(l => new LeaseEvent(LeaseEventKind.Added, l))], CancellationToken.None);
        Assert.Empty(Status(ns, config, "flannel.7", vxlan: true, leases).Drift);

        // Break one entry of every kind, and leave behind what a departed peer and an old address would.
        ns.Ip("route", "del", "10.5.2.0/24", "dev", "flannel.7");
        ns.Ip("neigh", "replace", "10.5.3.0", "lladdr", "0e:00:00:00:00:0c", "dev", "flannel.7", "nud", "permanent");
        ns.Exec("bridge", "fdb", "del", "0e:00:00:00:00:02", "dev", "flannel.7", "dst", "198.51.100.2");
        ns.Exec("bridge", "fdb", "append", "0e:00:00:00:00:09", "dev", "flannel.7", "dst", "198.51.100.9", "self", "permanent");
        ns.Ip("neigh", "add", "10.5.9.0", "lladdr", "0e:00:00:00:00:09", "dev", "flannel.7", "nud", "permanent");
        ns.Ip("route", "add", "10.5.9.0/24", "via", "10.5.9.0", "dev", "flannel.7", "onlink");
        ns.Ip("addr", "add", "10.5.1.5/32", "dev", "flannel.7");
        ns.Ip("addr", "del", "10.5.1.0/32", "dev", "flannel.7");

        var before = Status(ns, config, "flannel.7", vxlan: true, leases);
        Assert.Equal(
        [
            "missing address 10.5.1.0/32 dev flannel.7",
            "stale address 10.5.1.5/32 dev flannel.7",
            "missing route 10.5.2.0/24 via 10.5.2.0 dev flannel.7 onlink",
            "missing fdb 0e:00:00:00:00:02 dst 198.51.100.2 dev flannel.7",
            "wrong neighbour 10.5.3.0 lladdr 0e:00:00:00:00:0c dev flannel.7 (lease VtepMAC 0e:00:00:00:00:03, permanent)",
            "stale neighbour 10.5.9.0 lladdr 0e:00:00:00:00:09 dev flannel.7",
            "stale fdb 0e:00:00:00:00:09 dst 198.51.100.9 dev flannel.7",
            "stale route 10.5.9.0/24 via 10.5.9.0 dev flannel.7 onlink",
        ], before.Drift.Select(d => d.Text));

        Assert.Equal(before.Drift.Count, await network.ReconcileAsync(CancellationToken.None));
        Assert.Empty(Status(ns, config, "flannel.7", vxlan: true, leases).Drift);
        Assert.Equal(0, await network.ReconcileAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Host_gw_status_reports_what_reconcile_repairs_and_nothing_after()
    {
        using var ns = Underlay();
        var config = NetworkConfigParser.Parse("""{"Network":"10.5.0.0/16","Backend":{"Type":"host-gw"}}""");
        int eth0 = ns.Run(() => { using var r = RtnetlinkClient.Open(); return r.GetLinkIndex("eth0"); });
        var iface = new ExternalInterface("eth0", eth0, 1500, Ip4Address.Parse("198.51.100.1"), Ip4Address.Parse("198.51.100.1"));
        var context = new BackendContext(iface, config, NullLoggerFactory.Instance);
        await using var network = (HostGwNetwork)ns.Run(() => new HostGwBackend(context).RegisterNetworkAsync(CancellationToken.None).GetAwaiter().GetResult());
        Lease[] leases =
        [
            Lease("10.5.1.0/24", "198.51.100.1", "host-gw"),
            Lease("10.5.2.0/24", "198.51.100.2", "host-gw"),
            Lease("10.5.3.0/24", "198.51.100.3", "host-gw"),
        ];
        await network.ConfigureAsync(leases[0], CancellationToken.None);
        await network.HandlePeersAsync([.. leases[1..].Select(l => new LeaseEvent(LeaseEventKind.Added, l))], CancellationToken.None);
        Assert.Empty(Status(ns, config, null, vxlan: false, leases).Drift);

        ns.Ip("route", "del", "10.5.2.0/24");
        ns.Ip("route", "replace", "10.5.3.0/24", "via", "198.51.100.33", "dev", "eth0");
        ns.Ip("route", "add", "10.5.9.0/24", "via", "198.51.100.9", "dev", "eth0");

        var before = Status(ns, config, null, vxlan: false, leases);
        Assert.Equal(
        [
            "missing route 10.5.2.0/24 via 198.51.100.2",
            "missing route 10.5.3.0/24 via 198.51.100.3",
            "stale route 10.5.3.0/24 via 198.51.100.33 dev eth0",
            "stale route 10.5.9.0/24 via 198.51.100.9 dev eth0",
        ], before.Drift.Select(d => d.Text).Order(StringComparer.Ordinal));

        Assert.Equal(before.Drift.Count, await network.ReconcileAsync(CancellationToken.None));
        Assert.Empty(Status(ns, config, null, vxlan: false, leases).Drift);
        Assert.Equal(0, await network.ReconcileAsync(CancellationToken.None));
    }
}
