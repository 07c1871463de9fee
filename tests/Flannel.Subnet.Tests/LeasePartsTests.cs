using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>The decisions of the lease manager's parts, as the pure functions they are (no etcd, no clock).</summary>
[Unit]
public class LeasePartsTests
{
    private static readonly NetworkConfig Vxlan = NetworkConfigParser.Parse("""{"Network":"10.50.0.0/16","Backend":{"Type":"vxlan"}}""");

    private static SubnetKey Key(string s) => SubnetKeyCodec.TryParse(s, out var k) ? k : throw new ArgumentException(s);

    private static Lease Peer(string key, string ip, string? type = "vxlan") => new(Key(key), new LeaseAttrs(Ip4Address.Parse(ip), BackendType: type), 1, 7);

    [Fact]
    public void A_config_problem_is_logged_when_new_when_changed_and_again_after_the_repeat()
    {
        var repeat = TimeSpan.FromSeconds(30);
        Assert.True(ConfigWaiter.ShouldLog("missing", null, null, repeat));
        Assert.False(ConfigWaiter.ShouldLog("missing", "missing", TimeSpan.FromSeconds(29), repeat));
        Assert.True(ConfigWaiter.ShouldLog("missing", "missing", TimeSpan.FromSeconds(30), repeat));
        Assert.True(ConfigWaiter.ShouldLog("invalid", "missing", TimeSpan.FromSeconds(1), repeat));
    }

    [Fact]
    public void Config_changes_name_each_field_that_differs()
    {
        var other = NetworkConfigParser.Parse("""{"Network":"10.51.0.0/16","SubnetLen":25,"Backend":{"Type":"vxlan"}}""");
        var changes = ConfigWatcher.Changes(Vxlan, other);
        Assert.Equal("Network 10.50.0.0/16 -> 10.51.0.0/16", changes[0]);
        Assert.Contains("SubnetLen 24 -> 25", changes);
        Assert.Empty(ConfigWatcher.Changes(Vxlan, NetworkConfigParser.Parse("""{"Network":"10.50.0.0/16","Backend":{"Type":"vxlan"}}""")));
    }

    [Fact]
    public void The_previous_subnet_is_asked_for_only_when_free_and_compatible()
    {
        Assert.Equal((true, "free, asking for it"), LeaseAcquirer.Previous(Key("10.50.7.0-24"), [Key("10.50.8.0-24")], Vxlan));
        Assert.Equal((false, "held by another host"), LeaseAcquirer.Previous(Key("10.50.7.0-24"), [Key("10.50.7.0-24")], Vxlan));
        Assert.Equal((false, "not compatible with the network config"), LeaseAcquirer.Previous(Key("10.99.7.0-24"), [], Vxlan));
    }

    [Fact]
    public void The_renewal_is_due_a_margin_before_expiry_and_health_allows_one_retry_more()
    {
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromHours(23), LeaseRenewer.UntilDue(now.AddHours(24), TimeSpan.FromHours(1), now));
        Assert.Equal(TimeSpan.FromMinutes(-30), LeaseRenewer.UntilDue(now.AddMinutes(30), TimeSpan.FromHours(1), now));
        Assert.Equal(TimeSpan.FromMinutes(62), LeaseRenewer.HealthBound(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromMinutes(2), LeaseRenewer.HealthBound(TimeSpan.FromMinutes(-5), TimeSpan.FromMinutes(1))); // overdue
    }

    [Fact]
    public void Our_lease_is_lost_on_its_last_removal_only()
    {
        var own = Peer("10.50.1.0-24", "198.51.100.1");
        Assert.Null(OwnLeaseGuard.Lost([new LeaseEvent(LeaseEventKind.Added, own)]));
        Assert.Same(own, OwnLeaseGuard.Lost([new LeaseEvent(LeaseEventKind.Added, own), new LeaseEvent(LeaseEventKind.Removed, own)]));
    }

    [Theory]
    [InlineData("10.99.1.0-24", "198.51.100.2", "vxlan", "subnet 10.99.1.0/24 is outside the network 10.50.0.0/16")]
    [InlineData("10.50.2.0-25", "198.51.100.2", "vxlan", "subnet 10.50.2.0/25 is a /25, the network's subnets are /24")]
    [InlineData("10.50.2.0-24", "0.0.0.0", "vxlan", "it has no PublicIP")]
    [InlineData("10.50.2.0-24", "198.51.100.1", "vxlan", "its PublicIP 198.51.100.1 is this host's own")]
    [InlineData("10.50.2.0-24", "198.51.100.2", null, "backend type udp, this host runs vxlan")]
    [InlineData("10.50.9.0-24&fd00::-64", "198.51.100.2", "vxlan", "subnet 10.50.9.0/24 overlaps this host's 10.50.9.0/24")]
    [InlineData("10.50.1.0-24&fd00::-64", "198.51.100.2", "vxlan", "subnet 10.50.1.0/24 overlaps peer 10.50.1.0/24")]
    [InlineData("10.50.1.0-24", "198.51.100.2", "vxlan", null)] // the accepted peer itself, changed
    [InlineData("10.50.2.0-24", "198.51.100.2", "VXLAN", null)]
    public void A_peer_lease_is_programmed_only_when_it_fits_the_network_and_clashes_with_nothing(string key, string ip, string? type, string? problem)
    {
        var ours = new LeaseAttrs(Ip4Address.Parse("198.51.100.1"), BackendType: "vxlan");
        var own = new Lease(Key("10.50.9.0-24"), ours, 1, 1);
        Assert.Equal(problem, PeerWatch.Problem(Peer(key, ip, type), Vxlan, ours, own, [Key("10.50.1.0-24")]));
    }
}
