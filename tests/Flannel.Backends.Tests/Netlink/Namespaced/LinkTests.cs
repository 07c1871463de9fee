using Flannel.Backends.Netlink;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class LinkTests
{
    [Fact]
    public void Lists_the_links_of_its_own_namespace_with_index_name_kind_mtu_and_mac()
    {
        using var bed = NamespaceBed.Create();

        var links = bed.Rtnl.ListLinks();

        // Exactly what a fresh namespace plus our veth pair holds: proof the socket is not in the host's namespace.
        Assert.Equal(["lo", "veth0", "veth1"], links.Select(l => l.Name).Order());
        var veth0 = links.Single(l => l.Name == "veth0");
        Assert.Equal("veth", veth0.Kind);
        Assert.Equal(1500, veth0.Mtu);
        Assert.False(veth0.IsUp);
        Assert.NotNull(veth0.HardwareAddress);
        string ip = bed.Ns.Ip("-o", "link", "show", "veth0");
        Assert.StartsWith($"{veth0.Index}: veth0@veth1: ", ip, StringComparison.Ordinal);
        Assert.Contains($" link/ether {Mac(veth0)} ", ip, StringComparison.Ordinal);
        var lo = links.Single(l => l.Name == "lo");
        Assert.True((lo.Flags & LinkFlags.Loopback) != 0);
        Assert.Null(lo.Kind);
    }

    [Fact]
    public void Finds_a_link_by_name_or_index_and_reports_a_missing_one()
    {
        using var bed = NamespaceBed.Create();

        var byName = bed.Rtnl.GetLink("veth1");
        var byIndex = bed.Rtnl.GetLink(bed.Veth1);

        Assert.NotNull(byName);
        Assert.Equal(byName, byIndex);
        Assert.Equal(bed.Veth1, byName.Index);
        Assert.Null(bed.Rtnl.GetLink("nosuchlink"));
        Assert.Null(bed.Rtnl.GetLink(9999));
        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.GetLinkIndex("nosuchlink"));
        Assert.Equal(19, e.Errno);  // ENODEV
        Assert.Contains("\"nosuchlink\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("No such device", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => bed.Rtnl.GetLink("a-name-over-15-bytes"));
    }

    [Fact]
    public void Sets_a_link_up_and_down_and_changes_its_mtu()
    {
        using var bed = NamespaceBed.Create();

        bed.Rtnl.SetLinkMtu(bed.Veth0, 1400);
        bed.Rtnl.SetLinkUp(bed.Veth0);

        var link = bed.Rtnl.GetLink(bed.Veth0)!;
        Assert.True(link.IsUp);
        Assert.Equal(1400, link.Mtu);
        string ip = bed.Ns.Ip("-o", "link", "show", "veth0");
        Assert.Contains(",UP", ip, StringComparison.Ordinal);
        Assert.Contains(" mtu 1400 ", ip, StringComparison.Ordinal);

        bed.Rtnl.SetLinkDown(bed.Veth0);
        Assert.False(bed.Rtnl.GetLink(bed.Veth0)!.IsUp);
    }

    [Fact]
    public void A_bad_mtu_is_refused_by_the_kernel_with_its_reason()
    {
        using var bed = NamespaceBed.Create();

        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.SetLinkMtu(bed.Veth0, 70_000));

        Assert.Equal(22, e.Errno);  // EINVAL
        Assert.StartsWith($"set link #{bed.Veth0} mtu 70000 failed: Invalid argument", e.Message, StringComparison.Ordinal);
    }

    private static string Mac(LinkInfo link) =>
        string.Join(':', link.HardwareAddress!.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
