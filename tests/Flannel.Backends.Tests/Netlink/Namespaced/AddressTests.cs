using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

[NeedsRoot]
public class AddressTests
{
    private static readonly Ip4Network Address = new(NamespaceBed.Local, 24);

    [Fact]
    public void Adds_lists_and_deletes_an_address()
    {
        using var bed = NamespaceBed.Create();

        bed.Rtnl.AddAddress(bed.Veth0, Address);

        Assert.Equal([new AddressInfo(bed.Veth0, Address, RouteScope.Universe, "veth0")], bed.Rtnl.ListAddresses(bed.Veth0));
        Assert.Empty(bed.Rtnl.ListAddresses(bed.Veth1));
        Assert.Contains(bed.Rtnl.ListAddresses(), a => a.Address == Address);
        // The broadcast address is filled in, as `ip addr add ... brd +` would.
        Assert.Contains("inet 198.51.100.1/24 brd 198.51.100.255 scope global veth0",
            bed.Ns.Ip("-4", "-o", "addr", "show", "dev", "veth0"), StringComparison.Ordinal);

        bed.Rtnl.DeleteAddress(bed.Veth0, Address);

        Assert.Empty(bed.Rtnl.ListAddresses(bed.Veth0));
        Assert.DoesNotContain("198.51.100.1", bed.Ns.Ip("-4", "addr", "show"), StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_an_address_twice_is_EEXIST_and_deleting_a_missing_one_EADDRNOTAVAIL()
    {
        using var bed = NamespaceBed.Create();
        bed.Rtnl.AddAddress(bed.Veth0, Address);

        var twice = Assert.Throws<NetlinkException>(() => bed.Rtnl.AddAddress(bed.Veth0, Address));
        var missing = Assert.Throws<NetlinkException>(() => bed.Rtnl.DeleteAddress(bed.Veth1, Address));

        Assert.Equal(17, twice.Errno);
        Assert.StartsWith($"add address 198.51.100.1/24 dev #{bed.Veth0} failed: File exists", twice.Message, StringComparison.Ordinal);
        Assert.Equal(99, missing.Errno);
    }
}
