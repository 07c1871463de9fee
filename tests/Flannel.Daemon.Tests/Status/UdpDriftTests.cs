using Flannel.Backends.Netlink;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using static Flannel.Daemon.Tests.Status.StatusFixtures;

namespace Flannel.Daemon.Tests.Status;

[Unit]
public class UdpDriftTests
{
    private static readonly NetworkConfig Udp = Config("""{"Type":"udp"}""");
    private static readonly Route NetworkRoute = new(Ip4Network.ParseCidr("10.5.0.0/16"), null, Dev, RouteScope.Universe);

    private static readonly LeaseWithTtl[] Leases =
    [
        Other("10.5.1.0/24", "198.51.100.1", null),
        Other("10.5.2.0/24", "198.51.100.2", null),
        Other("10.5.3.0/24", "198.51.100.3", "vxlan"),
    ];

    [Fact]
    public void Device_and_network_route_present_is_no_drift_and_peers_live_in_the_daemon()
    {
        var report = Analyze(Udp, Kernel("flannel0", [NetworkRoute]), Leases);
        Assert.Empty(report.Drift);
        Assert.Equal("flannel0", report.Config.Device);
        Assert.Equal(ProgrammedStates.ThisHost, Row(report, "10.5.1.0/24").Programmed);
        Assert.Equal(ProgrammedStates.InDaemon, Row(report, "10.5.2.0/24").Programmed);
        // The peer watch refuses a lease of another backend type (LeaseManager's peer check), so the pump never has it.
        Assert.Equal(ProgrammedStates.NotExpected, Row(report, "10.5.3.0/24").Programmed);
    }

    [Fact]
    public void Missing_network_route_is_drift()
    {
        var report = Analyze(Udp, Kernel("flannel0"), Leases);
        Assert.Equal(["missing route 10.5.0.0/16 dev flannel0"], DriftTexts(report));
    }

    [Fact]
    public void Missing_device_is_drift()
    {
        var report = Analyze(Udp, Kernel(null), Leases);
        Assert.Equal(["missing device flannel0 (udp)"], DriftTexts(report));
        Assert.False(report.Config.DevicePresent);
    }

    [Fact]
    public void Extra_route_into_flannel0_is_stale()
    {
        var extra = new Route(Ip4Network.ParseCidr("10.5.7.0/24"), null, Dev, RouteScope.Link);
        var report = Analyze(Udp, Kernel("flannel0", [NetworkRoute, extra]), Leases);
        Assert.Equal(["stale route 10.5.7.0/24 dev flannel0"], DriftTexts(report));
    }
}
