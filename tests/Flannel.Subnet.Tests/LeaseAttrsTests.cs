using System.Text;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

[Unit]
public class LeaseAttrsTests
{
    [Fact]
    public void Udp_lease_is_byte_identical_to_flanneld() =>
        Assert.Equal("""{"PublicIP":"192.168.100.2","PublicIPv6":null}""", new LeaseAttrs(Ip4Address.Parse("192.168.100.2")).ToJson());

    [Fact]
    public void Host_gw_lease_is_byte_identical_to_flanneld() =>
        Assert.Equal("""{"PublicIP":"192.168.100.1","PublicIPv6":null,"BackendType":"host-gw"}""",
            new LeaseAttrs(Ip4Address.Parse("192.168.100.1"), BackendType: "host-gw").ToJson());

    [Fact]
    public void Vxlan_lease_is_byte_identical_to_flanneld_and_backend_data_is_compacted()
    {
        var attrs = new LeaseAttrs(Ip4Address.Parse("192.168.100.1"), BackendType: "vxlan",
            BackendData: """{ "VNI": 1, "VtepMAC": "da:1d:81:be:0c:28" }""");
        Assert.Equal("""{"PublicIP":"192.168.100.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"da:1d:81:be:0c:28"}}""",
            attrs.ToJson());
    }

    [Fact]
    public void Dual_stack_lease_has_public_ipv6_and_v6_data()
    {
        var attrs = new LeaseAttrs(Ip4Address.Parse("192.168.100.1"), Ip6Address.Parse("2001:db8::10"), "vxlan",
            """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}""", """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"}""");
        Assert.Equal("""{"PublicIP":"192.168.100.1","PublicIPv6":"2001:db8::10","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"},"BackendV6Data":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"}}""",
            attrs.ToJson());
    }

    [Fact]
    public void Decodes_like_go_case_insensitive_unknown_fields_ignored_missing_zero()
    {
        var a = LeaseAttrs.FromJson("""{"publicip":"10.1.2.3","BACKENDTYPE":"vxlan","Extra":[1,2],"backenddata":{"VNI":1}}"""u8);
        Assert.Equal(Ip4Address.Parse("10.1.2.3"), a.PublicIP);
        Assert.Equal("vxlan", a.BackendType);
        Assert.Equal("""{"VNI":1}""", a.BackendData);
        Assert.Null(a.PublicIPv6);
        Assert.Equal(Ip4Address.Zero, LeaseAttrs.FromJson("{}"u8).PublicIP);
    }

    [Fact]
    public void Round_trips_through_json()
    {
        var a = new LeaseAttrs(Ip4Address.Parse("198.51.100.7"), null, "vxlan", """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}""");
        Assert.Equal(a, LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(a.ToJson())));
    }

    [Theory]
    [InlineData("""{"PublicIP":""}""")]
    [InlineData("""{"PublicIP":"fd00::1"}""")] // flanneld v0.20 panics on this; we refuse it
    [InlineData("""{"PublicIP":"10.0.0.1","PublicIPv6":""}""")]
    [InlineData("""{"PublicIP":"10.0.0.1","BackendType":5}""")]
    [InlineData("""[1]""")]
    [InlineData("""not json""")]
    public void Undecodable_values_throw_the_documented_exception(string json) =>
        Assert.Throws<LeaseDecodeException>(() => LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(json)));
}
