using Flannel.Backends.Interfaces;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests;

[Unit]
public class ExternalInterfaceSelectorTests
{
    private sealed class FakeHost : IInterfaceSource
    {
        public List<InterfaceCandidate> Interfaces { get; } =
        [
            new("lo", 1, 65536, [Ip4Address.Parse("127.0.0.1")]),
            new("eth0", 2, 1500, [Ip4Address.Parse("169.254.9.9"), Ip4Address.Parse("198.51.100.1")])
            {
                Ipv6Addresses = [Ip6Address.Parse("2001:db8:100::1"), Ip6Address.Parse("2001:db8:100::11")],
            },
            new("eth1", 3, 9000, [Ip4Address.Parse("198.51.100.77")]),
            new("nomtu", 4, 0, [Ip4Address.Parse("198.51.100.99")]),
        ];

        public string? DefaultRoute { get; set; } = "eth0";

        public IReadOnlyList<InterfaceCandidate> List() => Interfaces;
        public string? DefaultRouteInterface() => DefaultRoute;
        public string? InterfaceToReach(IpAddress destination) =>
            destination == Ip4Address.Parse("198.51.100.200") ? "eth1" : destination == Ip6Address.Parse("2001:db8:100::200") ? "eth0" : null;
    }

    private static ExternalInterface Select(InterfaceOptions o, FakeHost? host = null) => ExternalInterfaceSelector.Select(o, host ?? new FakeHost());

    [Fact]
    public void Default_route_interface_and_its_first_global_address()
    {
        var e = Select(new InterfaceOptions());
        Assert.Equal(("eth0", 2, 1500), (e.Name, e.Index, e.Mtu));
        Assert.Equal("198.51.100.1", e.Address.ToString()); // link-local skipped
        Assert.Equal(e.Address, e.PublicIP);
        Assert.Contains("default route", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_EnableIPv6_no_IPv6_address_is_chosen_or_published()
    {
        var e = Select(new InterfaceOptions { PublicIpv6 = "2001:db8:100::99" });
        Assert.Null(e.Address6);
        Assert.Null(e.PublicIPv6);
    }

    [Fact]
    public void With_EnableIPv6_the_interface_s_first_global_IPv6_address_is_chosen_and_published()
    {
        var e = Select(new InterfaceOptions { Ipv6 = true });
        Assert.Equal(("eth0", "198.51.100.1", "2001:db8:100::1", "2001:db8:100::1"),
            (e.Name, e.Address.ToString(), e.Address6.ToString(), e.PublicIPv6.ToString()));

        var published = Select(new InterfaceOptions { Ipv6 = true, PublicIpv6 = "2001:db8:100::99" });
        Assert.Equal(("2001:db8:100::1", "2001:db8:100::99"), (published.Address6.ToString(), published.PublicIPv6.ToString()));
    }

    [Fact]
    public void Iface_given_as_an_IPv6_address_picks_its_interface_and_that_address()
    {
        var e = Select(new InterfaceOptions { Ipv6 = true, Ifaces = ["2001:db8:100::11"] });
        Assert.Equal(("eth0", "198.51.100.1", "2001:db8:100::11"), (e.Name, e.Address.ToString(), e.Address6.ToString()));
        Assert.Contains("--iface address 2001:db8:100::11", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Iface_can_reach_takes_an_IPv6_target_too()
    {
        var e = Select(new InterfaceOptions { Ipv6 = true, IfaceCanReach = "2001:db8:100::200" });
        Assert.Equal(("eth0", "2001:db8:100::1"), (e.Name, e.Address6.ToString()));
        Assert.Contains("routes 2001:db8:100::200 (--iface-can-reach)", e.Reason, StringComparison.Ordinal);
        var bad = Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { IfaceCanReach = "eth0" }));
        Assert.Equal("invalid --iface-can-reach: eth0 is not an IP address", bad.Message);
    }

    [Fact]
    public void With_EnableIPv6_an_interface_without_IPv6_or_a_bad_public_ipv6_is_refused_in_flanneld_s_words()
    {
        var none = Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { Ipv6 = true, Ifaces = ["eth1"] }));
        Assert.StartsWith("failed to find IPv6 address for interface eth1", none.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { Ipv6 = true, PublicIpv6 = "198.51.100.5" }));
        Assert.Equal("invalid public IPv6 address: 198.51.100.5 (--public-ipv6)", bad.Message);
    }

    [Fact]
    public void Iface_by_name_or_address_tried_in_order()
    {
        Assert.Equal("eth1", Select(new InterfaceOptions { Ifaces = ["missing", "eth1"] }).Name);
        var byIp = Select(new InterfaceOptions { Ifaces = ["198.51.100.77"] });
        Assert.Equal(("eth1", "198.51.100.77"), (byIp.Name, byIp.Address.ToString()));
    }

    [Fact]
    public void Regex_matches_addresses_before_names_then_can_reach()
    {
        Assert.Equal("eth1", Select(new InterfaceOptions { IfaceRegexes = [@"^198\.51\.100\.7"] }).Name);
        Assert.Equal("eth0", Select(new InterfaceOptions { IfaceRegexes = ["^eth0$"] }).Name);
        Assert.Equal("eth1", Select(new InterfaceOptions { IfaceCanReach = "198.51.100.200" }).Name);
    }

    [Fact]
    public void Public_ip_overrides_what_is_published_and_alone_selects_its_owner()
    {
        var e = Select(new InterfaceOptions { Ifaces = ["eth0"], PublicIp = "203.0.113.5" });
        Assert.Equal(("eth0", "198.51.100.1", "203.0.113.5"), (e.Name, e.Address.ToString(), e.PublicIP.ToString()));
        Assert.Equal("eth1", Select(new InterfaceOptions { PublicIp = "198.51.100.77" }).Name);
    }

    [Fact]
    public void Clear_errors_when_nothing_matches()
    {
        var e = Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { Ifaces = ["wlan9"] }));
        Assert.Contains("no interface matches --iface wlan9", e.Message, StringComparison.Ordinal);
        Assert.Contains("eth0 [", e.Message, StringComparison.Ordinal);
        var noDefault = new FakeHost { DefaultRoute = null };
        Assert.Contains("default route", Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions(), noDefault)).Message, StringComparison.Ordinal);
        Assert.Contains("MTU", Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { Ifaces = ["nomtu"] })).Message, StringComparison.Ordinal);
        Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { PublicIp = "fd00::1" }));
        Assert.Throws<InterfaceSelectionException>(() => Select(new InterfaceOptions { IfaceRegexes = ["("] }));
    }
}
