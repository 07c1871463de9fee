using Flannel.Backends.Vxlan;

namespace Flannel.Backends.Tests.VxlanUnit;

[Unit]
public class VxlanOptionsTests
{
    [Fact]
    public void Defaults_are_flanneld_s()
    {
        var o = VxlanOptions.Parse("""{"Type":"vxlan"}""");
        Assert.Equal(new VxlanOptions(1, 0, false, false, false, 0), o);
    }

    [Fact]
    public void Keys_match_case_insensitively_like_go_json()
    {
        var o = VxlanOptions.Parse("""{"type":"vxlan","vni":42,"port":4789,"gbp":true,"learning":true,"directrouting":true,"mtu":1400}""");
        Assert.Equal(new VxlanOptions(42, 4789, true, true, true, 1400), o);
    }

    [Fact]
    public void Vni_0_means_the_default()
    {
        Assert.Equal(1u, VxlanOptions.Parse("""{"VNI":0}""").Vni);
    }

    [Theory]
    [InlineData("""{"VNI":"1"}""")]
    [InlineData("""{"VNI":16777216}""")]
    [InlineData("""{"Port":70000}""")]
    [InlineData("""{"DirectRouting":"yes"}""")]
    [InlineData("""{"MTU":-1}""")]
    public void Wrong_types_and_ranges_are_refused_with_the_key_named(string json)
    {
        var e = Assert.Throws<BackendException>(() => VxlanOptions.Parse(json));
        Assert.StartsWith("vxlan backend: ", e.Message, StringComparison.Ordinal);
    }
}

[Unit]
public class VxlanBackendDataTests
{
    [Fact]
    public void Writes_exactly_what_flanneld_writes()
    {
        Assert.True(VxlanBackendData.TryParseMac("AA:bb:0c:dd:ee:0F", out var mac));
        Assert.Equal("""{"VNI":1,"VtepMAC":"aa:bb:0c:dd:ee:0f"}""", new VxlanBackendData(1, mac).ToJson());
    }

    [Fact]
    public void Reads_a_flanneld_lease_and_refuses_broken_ones()
    {
        var d = VxlanBackendData.TryParse("""{"VNI":1,"VtepMAC":"86:23:78:a5:d8:be"}""");
        Assert.NotNull(d);
        Assert.Equal(1u, d.Vni);
        Assert.Equal("86:23:78:a5:d8:be", VxlanBackendData.FormatMac(d.VtepMac));
        Assert.Null(VxlanBackendData.TryParse(null));
        Assert.Null(VxlanBackendData.TryParse("{"));
        Assert.Null(VxlanBackendData.TryParse("""{"VNI":1}"""));
        Assert.Null(VxlanBackendData.TryParse("""{"VtepMAC":"86:23:78:a5:d8"}"""));
        Assert.Null(VxlanBackendData.TryParse("""{"VtepMAC":42}"""));
        Assert.Null(VxlanBackendData.TryParse("[]"));
    }

    [Fact]
    public void Random_macs_are_locally_administered_unicast()
    {
        for (int i = 0; i < 1000; i++)
        {
            byte first = VxlanDevice.RandomLocalMac().GetAddressBytes()[0];
            Assert.Equal(0x02, first & 0x03);
        }
    }

    [Theory]
    [InlineData("4.19", true)]
    [InlineData("5.6.19", true)]
    [InlineData("5.7", false)]
    [InlineData("6.18.0", false)]
    public void Checksum_offload_goes_off_before_kernel_5_7(string kernel, bool off)
    {
        Assert.Equal(off, VxlanBackend.ChecksumOffloadBroken(Version.Parse(kernel)));
    }
}
