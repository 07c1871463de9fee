using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

[NeedsRoot]
public class NeighbourAndFdbTests
{
    private static readonly PhysicalAddress VtepMac = PhysicalAddress.Parse("86-23-78-A5-D8-BE");
    private static readonly Ip4Address PeerNet = Ip4Address.Parse("10.5.2.0");

    [Fact]
    public void Replaces_lists_and_deletes_a_permanent_arp_entry()
    {
        using var bed = VxlanBed.Create();

        bed.Rtnl.ReplaceNeighbour(bed.Index, PeerNet, VxlanBed.Mac(1));
        // Replace overwrites the entry for that address.
        bed.Rtnl.ReplaceNeighbour(bed.Index, PeerNet, VtepMac);

        Assert.Equal([new Neighbour(bed.Index, PeerNet, VtepMac, Neighbour.NudPermanent)], bed.Rtnl.ListNeighbours(bed.Index));
        Assert.Equal(["10.5.2.0 lladdr 86:23:78:a5:d8:be PERMANENT"], bed.Lines("neigh", "show", "dev", VxlanBed.Name));
        Assert.Empty(bed.Rtnl.ListNeighbours(bed.Bed.Veth1));

        bed.Rtnl.DeleteNeighbour(bed.Index, PeerNet);

        Assert.Empty(bed.Rtnl.ListNeighbours(bed.Index));
        Assert.Empty(bed.Lines("neigh", "show", "dev", VxlanBed.Name));
        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.DeleteNeighbour(bed.Index, PeerNet));
        Assert.Equal(2, e.Errno);  // ENOENT
        Assert.Contains("delete neighbour 10.5.2.0 dev #", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lists_an_arp_entry_made_by_ip()
    {
        using var bed = VxlanBed.Create();
        bed.Bed.Ns.Ip("neigh", "replace", "10.5.3.0", "lladdr", "02:42:0a:05:03:00", "dev", VxlanBed.Name, "nud", "permanent");

        Assert.Equal(
            [new Neighbour(bed.Index, Ip4Address.Parse("10.5.3.0"), PhysicalAddress.Parse("02-42-0A-05-03-00"), Neighbour.NudPermanent)],
            bed.Rtnl.ListNeighbours(bed.Index));
    }

    [Fact]
    public void Replaces_lists_and_deletes_a_vxlan_fdb_entry()
    {
        using var bed = VxlanBed.Create();

        bed.Rtnl.ReplaceFdb(bed.Index, VtepMac, NamespaceBed.Peer);
        // Replacing the MAC's entry moves it to the new remote.
        var moved = Ip4Address.Parse("198.51.100.3");
        bed.Rtnl.ReplaceFdb(bed.Index, VtepMac, moved);

        var entry = Assert.Single(bed.Rtnl.ListFdb(bed.Index));
        Assert.Equal(bed.Index, entry.LinkIndex);
        Assert.Equal(VtepMac, entry.Mac);
        Assert.Equal(moved, entry.Destination);
        Assert.Equal(Neighbour.NudPermanent, entry.State);
        Assert.Equal(0x02, entry.Flags & 0x02);  // NTF_SELF
        Assert.Equal(["86:23:78:a5:d8:be dst 198.51.100.3 self permanent"], bed.BridgeLines("fdb", "show", "dev", VxlanBed.Name));
        // Other links' entries (veth0's own multicast MACs) are not listed.
        Assert.All(bed.Rtnl.ListFdb(bed.Bed.Veth0), e => Assert.Equal(bed.Bed.Veth0, e.LinkIndex));

        bed.Rtnl.DeleteFdb(bed.Index, VtepMac, moved);

        Assert.Empty(bed.Rtnl.ListFdb(bed.Index));
        Assert.Empty(bed.BridgeLines("fdb", "show", "dev", VxlanBed.Name));
        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.DeleteFdb(bed.Index, VtepMac, moved));
        Assert.Equal(2, e.Errno);  // ENOENT
    }

    [Fact]
    public void Lists_an_fdb_entry_made_by_bridge()
    {
        using var bed = VxlanBed.Create();
        bed.Bed.Ns.Exec("bridge", "fdb", "add", "02:42:0a:05:04:00", "dev", VxlanBed.Name, "dst", "198.51.100.4", "self", "permanent");

        var entry = Assert.Single(bed.Rtnl.ListFdb(bed.Index));

        Assert.Equal(PhysicalAddress.Parse("02-42-0A-05-04-00"), entry.Mac);
        Assert.Equal(Ip4Address.Parse("198.51.100.4"), entry.Destination);
        // bridge(8) sends NUD_NOARP | NUD_PERMANENT.
        Assert.Equal(0xc0, entry.State);
    }

    [Fact]
    public void Requests_on_a_missing_link_fail_with_the_errno()
    {
        using var bed = VxlanBed.Create();

        var neighbour = Assert.Throws<NetlinkException>(() => bed.Rtnl.ReplaceNeighbour(9999, PeerNet, VtepMac));
        var fdb = Assert.Throws<NetlinkException>(() => bed.Rtnl.ReplaceFdb(9999, VtepMac, NamespaceBed.Peer));

        Assert.Equal(19, neighbour.Errno);  // ENODEV
        Assert.Equal(19, fdb.Errno);
    }
}
