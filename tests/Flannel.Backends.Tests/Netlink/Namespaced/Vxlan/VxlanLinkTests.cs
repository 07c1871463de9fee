using Flannel.Backends.Vxlan;
using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

[NeedsRoot]
public class VxlanLinkTests
{
    [Fact]
    public void Creates_a_vxlan_like_flannel_and_reads_it_back()
    {
        using var bed = NamespaceBed.Create(underlay: true);

        int index = bed.Rtnl.CreateVxlan(VxlanBed.Spec(bed));
        var vxlan = bed.Rtnl.GetVxlan(VxlanBed.Name);

        Assert.NotNull(vxlan);
        Assert.Equal(index, vxlan.Index);
        Assert.Equal(VxlanBed.Name, vxlan.Name);
        Assert.Equal(1u, vxlan.Vni);
        Assert.Equal(NamespaceBed.Local, vxlan.Local);
        Assert.Equal(bed.Veth0, vxlan.ParentIndex);
        Assert.Equal(8472, vxlan.Port);  // port 0 is not sent: the kernel's default
        Assert.False(vxlan.Learning);
        Assert.False(vxlan.Gbp);
        Assert.Equal(1450, vxlan.Mtu);   // veth0's 1500 - 50
        Assert.NotNull(vxlan.Mac);
        Assert.False(vxlan.IsUp);
        string ip = bed.Ns.Ip("-d", "-o", "link", "show", VxlanBed.Name);
        Assert.Contains(" mtu 1450 ", ip, StringComparison.Ordinal);
        Assert.Contains($" link/ether {MacText.Format(vxlan.Mac)} ", ip, StringComparison.Ordinal);
        Assert.Contains("vxlan id 1 local 198.51.100.1 dev veth0 srcport 0 0 dstport 8472 nolearning ", ip, StringComparison.Ordinal);
        Assert.DoesNotContain(" gbp", ip, StringComparison.Ordinal);
        Assert.Equal("vxlan", bed.Rtnl.GetLink(index)!.Kind);
    }

    [Fact]
    public void Uses_the_given_mac_mtu_port_learning_and_gbp()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        var mac = PhysicalAddress.Parse("86-23-78-A5-D8-BE");
        var spec = new VxlanSpec("flannel.7", 7, NamespaceBed.Local, bed.Veth0, 4789, Learning: true, Gbp: true, Mtu: 1400, mac);

        int index = bed.Rtnl.CreateVxlan(spec);
        bed.Rtnl.SetLinkUp(index);
        var vxlan = bed.Rtnl.GetVxlan("flannel.7");

        Assert.Equal(
            new VxlanInfo(index, "flannel.7", 7, NamespaceBed.Local, bed.Veth0, 4789, true, true, 1400, mac, true),
            vxlan);
        string ip = bed.Ns.Ip("-d", "-o", "link", "show", "flannel.7");
        Assert.Contains(" link/ether 86:23:78:a5:d8:be ", ip, StringComparison.Ordinal);
        Assert.Contains("vxlan id 7 local 198.51.100.1 dev veth0 srcport 0 0 dstport 4789 ", ip, StringComparison.Ordinal);
        Assert.DoesNotContain("nolearning", ip, StringComparison.Ordinal);
        Assert.Contains(" gbp ", ip, StringComparison.Ordinal);
    }

    [Fact]
    public void Creating_it_again_fails_with_EEXIST_and_deleting_removes_it()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        int index = bed.Rtnl.CreateVxlan(VxlanBed.Spec(bed));

        var e = Assert.Throws<NetlinkException>(() => bed.Rtnl.CreateVxlan(VxlanBed.Spec(bed)));
        Assert.Equal(17, e.Errno);  // EEXIST
        Assert.Contains("create vxlan \"flannel.1\" id 1", e.Message, StringComparison.Ordinal);

        bed.Rtnl.DeleteLink(index);

        Assert.Null(bed.Rtnl.GetVxlan(VxlanBed.Name));
        Assert.Null(bed.Rtnl.GetLink(VxlanBed.Name));
        Assert.Equal(19, Assert.Throws<NetlinkException>(() => bed.Rtnl.DeleteLink(index)).Errno);  // ENODEV
    }

    [Fact]
    public void GetVxlan_is_null_for_a_missing_link_and_for_another_kind()
    {
        using var bed = NamespaceBed.Create();

        Assert.Null(bed.Rtnl.GetVxlan("flannel.1"));
        Assert.Null(bed.Rtnl.GetVxlan("veth0"));
        Assert.NotNull(bed.Rtnl.GetLink("veth0"));
        Assert.Throws<ArgumentException>(() => bed.Rtnl.GetVxlan("a-name-over-15-bytes"));
    }

    [Fact]
    public void Reads_a_vxlan_made_by_ip()
    {
        using var bed = NamespaceBed.Create(underlay: true);
        bed.Ns.Ip("link", "add", "vx9", "type", "vxlan", "id", "9", "local", "198.51.100.1", "dev", "veth0", "dstport", "8472", "nolearning");

        var vxlan = bed.Rtnl.GetVxlan("vx9");

        Assert.NotNull(vxlan);
        Assert.Equal((9u, (Ip4Address?)NamespaceBed.Local, bed.Veth0, (ushort)8472, false, false),
            (vxlan.Vni, vxlan.Local, vxlan.ParentIndex, vxlan.Port, vxlan.Learning, vxlan.Gbp));
    }
}
