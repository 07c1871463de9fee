using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class RouteErrorTests
{
    [Fact]
    public void Deleting_a_missing_route_is_ESRCH_with_a_readable_message()
    {
        using var bed = NamespaceBed.Create(underlay: true);

        var e = Assert.Throws<NetlinkException>(() =>
            bed.Rtnl.DeleteRoute(Route.Via(Net("10.5.9.0/24"), NamespaceBed.Peer, bed.Veth0)));

        Assert.Contains(e.Errno, new[] { 3, 2 });  // ESRCH from IPv4's fib_table_delete (ENOENT elsewhere)
        Assert.Equal($"delete route 10.5.9.0/24 via 198.51.100.2 dev #{bed.Veth0} failed: No such process (errno 3)", e.Message);
    }

    [Fact]
    public void Adding_twice_with_EXCL_is_EEXIST_while_replace_succeeds()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        var route = Route.Direct(Net("10.5.9.0/24"), bed.Veth0);
        bed.Rtnl.AddRoute(route);

        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.AddRoute(route));
        bed.Rtnl.ReplaceRoute(route);

        Assert.Equal(17, e.Errno);
        Assert.StartsWith($"add route 10.5.9.0/24 dev #{bed.Veth0} scope link failed: File exists", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gateway_off_the_link_is_refused_with_the_kernels_extended_ack_message()
    {
        using var bed = NamespaceBed.Create(underlay: true);

        // 10.99.0.1 is not on veth0's subnet and the route is not marked onlink.
        var e = Assert.Throws<NetlinkException>(() =>
            bed.Rtnl.AddRoute(Route.Via(Net("10.5.9.0/24"), Ip4Address.Parse("10.99.0.1"), bed.Veth0)));

        Assert.Equal("Nexthop has invalid gateway", e.KernelMessage);
        Assert.EndsWith(": Nexthop has invalid gateway", e.Message, StringComparison.Ordinal);
        // The same route marked onlink is accepted (what flannel's vxlan backend relies on).
        bed.Rtnl.AddRoute(Route.Via(Net("10.5.9.0/24"), Ip4Address.Parse("10.99.0.1"), bed.Veth0, onLink: true));
    }

    [Fact]
    public void A_destination_with_host_bits_is_refused_with_the_kernels_reason()
    {
        using var bed = NamespaceBed.Create(underlay: true);

        var e = Assert.Throws<NetlinkException>(() =>
            bed.Rtnl.AddRoute(Route.Direct(new Ip4Network(Ip4Address.Parse("10.5.9.1"), 24), bed.Veth0)));

        Assert.Equal(22, e.Errno);
        Assert.Equal("Invalid prefix for given prefix length", e.KernelMessage);
    }

    private static Ip4Network Net(string cidr) => Ip4Network.ParseCidr(cidr);
}
