using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using static Flannel.Daemon.Tests.Status.StatusFixtures;

namespace Flannel.Daemon.Tests.Status;

[Unit]
public class VxlanDriftTests
{
    private static readonly NetworkConfig VxlanConfig = Config("""{"Type":"vxlan"}""");
    private const string MacA = "0a:00:00:00:00:0a", MacB = "0b:00:00:00:00:0b";

    // Us (10.5.1.0/24) and two vxlan peers, everything programmed.
    private static readonly LeaseWithTtl[] Leases =
    [
        Vxlan("10.5.1.0/24", "198.51.100.1", "01:00:00:00:00:01"),
        Vxlan("10.5.2.0/24", "198.51.100.2", MacA),
        Vxlan("10.5.3.0/24", "198.51.100.3", MacB),
    ];

    private static List<Route> Routes() => [OnlinkRoute("10.5.2.0/24"), OnlinkRoute("10.5.3.0/24")];
    private static List<Neighbour> Neighbours() => [Neigh("10.5.2.0", MacA), Neigh("10.5.3.0", MacB)];
    private static List<FdbEntry> FdbEntries() => [Fdb(MacA, "198.51.100.2"), Fdb(MacB, "198.51.100.3")];

    [Fact]
    public void Everything_programmed_is_no_drift_and_our_own_lease_is_not_a_peer()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), Neighbours(), FdbEntries()), Leases);
        Assert.Empty(report.Drift);
        Assert.False(report.HasDrift);
        Assert.Equal(ProgrammedStates.ThisHost, Row(report, "10.5.1.0/24").Programmed);
        Assert.True(Row(report, "10.5.1.0/24").Own);
        Assert.Equal(ProgrammedStates.Yes, Row(report, "10.5.2.0/24").Programmed);
        Assert.Equal(ProgrammedStates.Yes, Row(report, "10.5.3.0/24").Programmed);
        Assert.Equal("10.5.1.0/24", report.Own.Subnet);
        Assert.Equal("flannel.1", report.Config.Device);
        Assert.True(report.Config.DevicePresent);
        Assert.Equal(86_000, Row(report, "10.5.2.0/24").ExpiresInSeconds);
    }

    [Fact]
    public void Own_lease_expects_nothing_in_the_kernel_even_when_recognised_by_public_ip_only()
    {
        var report = DriftAnalyzer.Analyze(new StatusInputs(VxlanConfig, "k", Leases,
            new OwnHost(null, Ip4Address.Parse("198.51.100.1"), "--public-ip"), Kernel("flannel.1", Routes(), Neighbours(), FdbEntries())));
        Assert.Empty(report.Drift);
        Assert.Equal(ProgrammedStates.ThisHost, Row(report, "10.5.1.0/24").Programmed);
    }

    [Fact]
    public void Missing_route_is_drift_and_the_peer_is_partly_programmed()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", [OnlinkRoute("10.5.3.0/24")], Neighbours(), FdbEntries()), Leases);
        Assert.Equal(["missing route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink"], DriftTexts(report));
        var d = Assert.Single(report.Drift);
        Assert.Equal((DriftKinds.Missing, DriftEntries.Route, "10.5.2.0/24"), (d.Kind, d.Entry, d.Subnet));
        Assert.Equal(ProgrammedStates.Partly, Row(report, "10.5.2.0/24").Programmed);
        Assert.Contains("route", Row(report, "10.5.2.0/24").Detail, StringComparison.Ordinal);
        Assert.Equal(ProgrammedStates.Yes, Row(report, "10.5.3.0/24").Programmed);
    }

    [Fact]
    public void Missing_neighbour_and_missing_fdb_entry_are_named()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), [Neigh("10.5.3.0", MacB)], [Fdb(MacA, "198.51.100.2")]), Leases);
        Assert.Equal(
            ["missing neighbour 10.5.2.0 lladdr 0a:00:00:00:00:0a dev flannel.1", "missing fdb 0b:00:00:00:00:0b dst 198.51.100.3 dev flannel.1"],
            DriftTexts(report));
    }

    [Fact]
    public void Neighbour_with_the_wrong_MAC_is_drift()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), [Neigh("10.5.2.0", "0c:00:00:00:00:0c"), Neigh("10.5.3.0", MacB)], FdbEntries()), Leases);
        var d = Assert.Single(report.Drift);
        Assert.Equal(DriftKinds.Wrong, d.Kind);
        Assert.Equal("wrong neighbour 10.5.2.0 lladdr 0c:00:00:00:00:0c dev flannel.1 (lease VtepMAC 0a:00:00:00:00:0a, permanent)", d.Text);
        Assert.Equal(ProgrammedStates.Partly, Row(report, "10.5.2.0/24").Programmed);
    }

    [Fact]
    public void Fdb_entry_with_an_old_MAC_is_stale_and_the_lease_MAC_missing()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), Neighbours(), [Fdb("0c:00:00:00:00:0c", "198.51.100.2"), Fdb(MacB, "198.51.100.3")]), Leases);
        Assert.Equal(
            ["missing fdb 0a:00:00:00:00:0a dst 198.51.100.2 dev flannel.1", "stale fdb 0c:00:00:00:00:0c dst 198.51.100.2 dev flannel.1"],
            DriftTexts(report));
    }

    [Fact]
    public void Stale_fdb_entry_neighbour_and_route_of_a_peer_that_is_gone_are_reported()
    {
        var report = Analyze(VxlanConfig,
            Kernel("flannel.1", [.. Routes(), OnlinkRoute("10.5.9.0/24")], [.. Neighbours(), Neigh("10.5.9.0", "09:00:00:00:00:09")],
                [.. FdbEntries(), Fdb("09:00:00:00:00:09", "198.51.100.9")]),
            Leases);
        Assert.Equal(
        [
            "stale neighbour 10.5.9.0 lladdr 09:00:00:00:00:09 dev flannel.1",
            "stale fdb 09:00:00:00:00:09 dst 198.51.100.9 dev flannel.1",
            "stale route 10.5.9.0/24 via 10.5.9.0 dev flannel.1 onlink",
        ], DriftTexts(report));
        Assert.All(report.Drift, d => Assert.Equal(DriftKinds.Stale, d.Kind));
        Assert.All(report.Leases, l => Assert.NotEqual(ProgrammedStates.Partly, l.Programmed));
    }

    [Fact]
    public void Fdb_entry_added_by_hand_is_stale_though_its_state_also_has_NUD_NOARP()
    {
        // `bridge fdb add MAC dev flannel.1 dst IP self permanent` gives NUD_PERMANENT | NUD_NOARP.
        var byHand = Fdb("09:00:00:00:00:09", "198.51.100.9") with { State = 0xc0 };
        var learnt = Fdb("08:00:00:00:00:08", "198.51.100.8") with { State = 0x02 }; // NUD_REACHABLE: learning, not flannel's
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), Neighbours(), [.. FdbEntries(), byHand, learnt]), Leases);
        Assert.Equal(["stale fdb 09:00:00:00:00:09 dst 198.51.100.9 dev flannel.1"], DriftTexts(report));
    }

    [Fact]
    public void Missing_device_is_reported_once_and_its_peers_are_not_programmed()
    {
        var report = Analyze(VxlanConfig, Kernel(null), Leases);
        var d = Assert.Single(report.Drift);
        Assert.Equal((DriftKinds.Missing, DriftEntries.Device, "missing device flannel.1 (vxlan)"), (d.Kind, d.Entry, d.Text));
        Assert.False(report.Config.DevicePresent);
        Assert.Equal(ProgrammedStates.No, Row(report, "10.5.2.0/24").Programmed);
        Assert.Equal(ProgrammedStates.No, Row(report, "10.5.3.0/24").Programmed);
    }

    [Fact]
    public void Device_of_another_VNI_does_not_count()
    {
        var report = Analyze(Config("""{"Type":"vxlan","VNI":4}"""), Kernel("flannel.1", Routes(), Neighbours(), FdbEntries()), Leases);
        Assert.Contains("missing device flannel.4 (vxlan)", DriftTexts(report));
    }

    [Fact]
    public void Non_vxlan_peer_is_shown_but_not_expected_in_the_kernel()
    {
        LeaseWithTtl[] leases = [.. Leases, Other("10.5.4.0/24", "198.51.100.4", "host-gw"), Other("10.5.5.0/24", "198.51.100.5", null)];
        var report = Analyze(VxlanConfig, Kernel("flannel.1", Routes(), Neighbours(), FdbEntries()), leases);
        Assert.Empty(report.Drift);
        Assert.Equal(5, report.Leases.Count);
        Assert.Equal(ProgrammedStates.NotExpected, Row(report, "10.5.4.0/24").Programmed);
        Assert.Equal("host-gw", Row(report, "10.5.4.0/24").BackendType);
        Assert.Equal(ProgrammedStates.NotExpected, Row(report, "10.5.5.0/24").Programmed);
        Assert.Equal("udp", Row(report, "10.5.5.0/24").BackendType);
    }

    [Fact]
    public void Vxlan_peer_without_a_VtepMAC_is_not_expected()
    {
        var noMac = new LeaseWithTtl(Leases[1].Lease with { Attrs = Leases[1].Lease.Attrs with { BackendData = "{}" } }, null);
        var report = Analyze(VxlanConfig, Kernel("flannel.1", [OnlinkRoute("10.5.3.0/24")], [Neigh("10.5.3.0", MacB)], [Fdb(MacB, "198.51.100.3")]),
            Leases[0], noMac, Leases[2]);
        Assert.Empty(report.Drift);
        Assert.Equal(ProgrammedStates.NotExpected, Row(report, "10.5.2.0/24").Programmed);
        Assert.Null(Row(report, "10.5.2.0/24").ExpiresInSeconds);
    }

    [Fact]
    public void DirectRouting_peer_on_our_L2_network_expects_only_a_route_via_its_public_ip()
    {
        var config = Config("""{"Type":"vxlan","DirectRouting":true}""");
        var kernel = Kernel("flannel.1", [ViaRoute("10.5.2.0/24", "198.51.100.2"), OnlinkRoute("10.5.3.0/24")], [Neigh("10.5.3.0", MacB)],
            [Fdb(MacB, "198.51.100.3")], directlyReachable: ["198.51.100.2"]);
        Assert.Empty(Analyze(config, kernel, Leases).Drift);

        var missing = Analyze(config, kernel with { Routes = [OnlinkRoute("10.5.3.0/24")] }, Leases);
        Assert.Equal(["missing route 10.5.2.0/24 via 198.51.100.2"], DriftTexts(missing));
    }

    [Fact]
    public void Stale_route_into_the_network_via_another_gateway_is_reported_but_our_bridge_route_is_not()
    {
        var report = Analyze(VxlanConfig, Kernel("flannel.1", [.. Routes(), ViaRoute("10.5.8.0/24", "198.51.100.8")], Neighbours(), FdbEntries()), Leases);
        Assert.Equal(["stale route 10.5.8.0/24 via 198.51.100.8 dev eth0"], DriftTexts(report));
    }
}
