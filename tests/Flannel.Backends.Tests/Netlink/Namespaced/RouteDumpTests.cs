using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class RouteDumpTests
{
    [Fact]
    public void A_dump_of_2000_routes_returns_every_one()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        // 10.128.0.0/24 .. 10.135.207.0/24: ~64 bytes each, ~128 KiB in all, several times the kernel's 32 KiB
        // ceiling per dump datagram, so this only passes if the multi-part dump is followed to NLMSG_DONE.
        var added = Enumerable.Range(0, 2000)
            .Select(i => Route.Direct(new Ip4Network(new Ip4Address(0x0A80_0000u + ((uint)i << 8)), 24), bed.Veth0))
            .ToList();
        foreach (var route in added)
        {
            bed.Rtnl.AddRoute(route);
        }

        var listed = bed.Rtnl.ListRoutes();

        Assert.Equal(2001, listed.Count);  // plus the kernel's route for 198.51.100.0/24
        Assert.Equal(added.ToHashSet(), listed.Where(r => r.Protocol == RouteProtocol.Boot).ToHashSet());
        Assert.Equal(listed.Count, bed.IpRoutes().Length);
    }
}
