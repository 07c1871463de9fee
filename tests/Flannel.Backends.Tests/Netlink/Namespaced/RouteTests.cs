using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class RouteTests
{
    private static readonly Ip4Network Underlay = Ip4Network.ParseCidr("198.51.100.0/24");

    [Fact]
    public void Adds_lists_replaces_and_deletes_gateway_onlink_and_direct_routes()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        var viaGateway = Route.Via(Net("10.5.2.0/24"), NamespaceBed.Peer, bed.Veth0);
        var onLink = Route.Via(Net("10.5.3.0/24"), Ip4Address.Parse("10.5.3.0"), bed.Veth0, onLink: true);
        var direct = Route.Direct(Net("10.5.4.0/24"), bed.Veth0);

        bed.Rtnl.AddRoute(viaGateway);
        bed.Rtnl.AddRoute(onLink);
        bed.Rtnl.AddRoute(direct);

        // Read back field for field (scope, protocol boot, table main, onlink flag) as the kernel stored them.
        Assert.Equal([viaGateway, onLink, direct], OverlayRoutes(bed));
        var kernelRoute = bed.Rtnl.ListRoutes().Single(r => r.Destination == Underlay);
        Assert.Equal(RouteProtocol.Kernel, kernelRoute.Protocol);
        Assert.Equal(RouteScope.Link, kernelRoute.Scope);
        Assert.Equal(NamespaceBed.Local, kernelRoute.Source);
        Assert.Equal(
            [
                "10.5.2.0/24 via 198.51.100.2 dev veth0",
                "10.5.3.0/24 via 10.5.3.0 dev veth0 onlink",
                "10.5.4.0/24 dev veth0 scope link",
                "198.51.100.0/24 dev veth0 proto kernel scope link src 198.51.100.1",
            ],
            bed.IpRoutes());

        var moved = viaGateway with { Gateway = Ip4Address.Parse("198.51.100.3") };
        bed.Rtnl.ReplaceRoute(moved);
        var created = Route.Via(Net("10.5.5.0/24"), NamespaceBed.Peer, bed.Veth0);
        bed.Rtnl.ReplaceRoute(created);

        Assert.Equal([moved, onLink, direct, created], OverlayRoutes(bed));
        Assert.Contains("10.5.2.0/24 via 198.51.100.3 dev veth0", bed.IpRoutes());

        foreach (var route in new[] { moved, onLink, direct, created })
        {
            bed.Rtnl.DeleteRoute(route);
        }

        Assert.Empty(OverlayRoutes(bed));
        Assert.Equal(["198.51.100.0/24 dev veth0 proto kernel scope link src 198.51.100.1"], bed.IpRoutes());
    }

    [Fact]
    public void Deletes_a_route_whoever_installed_it()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        bed.Ns.Ip("route", "add", "10.5.6.0/24", "via", "198.51.100.2", "proto", "static");

        // Protocol boot in the record; the delete still matches the static route, as `ip route del` would.
        bed.Rtnl.DeleteRoute(Route.Via(Net("10.5.6.0/24"), NamespaceBed.Peer));

        Assert.Empty(OverlayRoutes(bed));
    }

    [Fact]
    public void GetRouteTo_an_IPv6_address_names_the_link_ip_6_route_get_names()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        bed.Ns.Ip("-6", "addr", "add", "2001:db8:100::1/64", "dev", "veth0", "nodad");
        bed.Ns.Ip("-6", "addr", "add", "2001:db8:100:1::1/64", "dev", "veth1", "nodad");

        Assert.Equal(bed.Veth0, bed.Rtnl.GetRouteTo(Ip6Address.Parse("2001:db8:100::9"))?.LinkIndex);
        var route = bed.Rtnl.GetRouteTo(Ip6Address.Parse("2001:db8:100:1::9"));
        Assert.Equal(bed.Veth1, route?.LinkIndex);
        Assert.Equal(IpNetwork.Host(Ip6Address.Parse("2001:db8:100:1::9")), route?.Destination);
        Assert.Null(route?.Gateway);
        Assert.Contains("dev veth1", bed.Ns.Ip("-6", "route", "get", "2001:db8:100:1::9"), StringComparison.Ordinal);
        Assert.Null(bed.Rtnl.GetRouteTo(Ip6Address.Parse("2001:db8:200::1"))); // no IPv6 default route here
    }

    [Fact]
    public void GetRouteTo_resolves_like_ip_route_get()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        bed.Rtnl.AddRoute(Route.Via(Net("10.5.2.0/24"), NamespaceBed.Peer, bed.Veth0));

        var viaGateway = bed.Rtnl.GetRouteTo(Ip4Address.Parse("10.5.2.7"));
        var onLink = bed.Rtnl.GetRouteTo(Ip4Address.Parse("198.51.100.9"));
        var unreachable = bed.Rtnl.GetRouteTo(Ip4Address.Parse("10.250.0.1"));

        Assert.NotNull(viaGateway);
        Assert.Equal(Net("10.5.2.7/32"), viaGateway.Destination);
        Assert.Equal(NamespaceBed.Peer, viaGateway.Gateway);
        Assert.Equal(bed.Veth0, viaGateway.LinkIndex);
        Assert.Equal(NamespaceBed.Local, viaGateway.Source);
        Assert.StartsWith("10.5.2.7 via 198.51.100.2 dev veth0 src 198.51.100.1 ",
            bed.Ns.Ip("route", "get", "10.5.2.7"), StringComparison.Ordinal);
        Assert.NotNull(onLink);
        Assert.Null(onLink.Gateway);
        Assert.Equal(bed.Veth0, onLink.LinkIndex);
        Assert.Equal(NamespaceBed.Local, onLink.Source);
        Assert.Null(unreachable);
    }

    private static Ip4Network Net(string cidr) => Ip4Network.ParseCidr(cidr);

    private static List<Route> OverlayRoutes(NamespaceBed bed) =>
        [.. bed.Rtnl.ListRoutes().Where(r => r.Destination != Underlay).OrderBy(r => r.Destination.Ip)];
}
