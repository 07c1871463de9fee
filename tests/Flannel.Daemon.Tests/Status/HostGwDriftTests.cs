using Flannel.Backends.KernelState;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet.Config;
using static Flannel.Daemon.Tests.Status.StatusFixtures;

namespace Flannel.Daemon.Tests.Status;

[Unit]
public class HostGwDriftTests
{
    private static readonly NetworkConfig HostGw = Config("""{"Type":"host-gw"}""");

    private static readonly LeaseWithTtl[] Leases =
    [
        Other("10.5.1.0/24", "198.51.100.1", "host-gw"),
        Other("10.5.2.0/24", "198.51.100.2", "host-gw"),
        Other("10.5.3.0/24", "198.51.100.3", "vxlan"),
    ];

    [Fact]
    public void Route_via_the_public_ip_programs_a_peer_and_other_backends_are_not_expected()
    {
        var report = Analyze(HostGw, Kernel(null, [ViaRoute("10.5.2.0/24", "198.51.100.2")]), Leases);
        Assert.Empty(report.Drift);
        Assert.Null(report.Config.Device);
        Assert.True(report.Config.DevicePresent);
        Assert.Equal(ProgrammedStates.ThisHost, Row(report, "10.5.1.0/24").Programmed);
        Assert.Equal(ProgrammedStates.Yes, Row(report, "10.5.2.0/24").Programmed);
        Assert.Equal(ProgrammedStates.NotExpected, Row(report, "10.5.3.0/24").Programmed);
    }

    [Fact]
    public void Missing_route_and_a_route_via_the_wrong_gateway_are_drift()
    {
        var report = Analyze(HostGw, Kernel(null, [ViaRoute("10.5.2.0/24", "198.51.100.7")]), Leases);
        Assert.Equal(["missing route 10.5.2.0/24 via 198.51.100.2", "stale route 10.5.2.0/24 via 198.51.100.7 dev eth0"], DriftTexts(report));
        Assert.Equal(ProgrammedStates.No, Row(report, "10.5.2.0/24").Programmed);
    }

    [Fact]
    public void Route_of_a_peer_that_is_gone_is_stale_and_routes_outside_the_network_are_ignored()
    {
        var report = Analyze(HostGw, Kernel(null, [ViaRoute("10.5.2.0/24", "198.51.100.2"), ViaRoute("10.5.6.0/24", "198.51.100.6"),
            ViaRoute("192.0.2.0/24", "198.51.100.6")]), Leases);
        var d = Assert.Single(report.Drift);
        Assert.Equal((DriftKinds.Stale, DriftEntries.Route, "stale route 10.5.6.0/24 via 198.51.100.6 dev eth0", "10.5.6.0/24"), (d.Kind, d.Entry, d.Text, d.Subnet));
    }
}
