using Flannel.Subnet.Config;

namespace Flannel.Subnet.Tests;

public class NetworkConfigParserTests
{
    private static NetworkConfig Parse(string json) => NetworkConfigParser.Parse(json);

    private static void Fails(string json, string message) =>
        Assert.Equal(message, Assert.Throws<NetworkConfigException>(() => Parse(json)).Message);

    [Fact]
    public void Defaults_for_a_16()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan"}}""");
        Assert.True(c.EnableIPv4);
        Assert.False(c.EnableIPv6);
        Assert.Equal("10.0.0.0/16", c.Network.ToString());
        Assert.Equal(24, c.SubnetLen);
        Assert.Equal("10.0.1.0", c.SubnetMin.ToString());
        Assert.Equal("10.0.255.0", c.SubnetMax.ToString());
        Assert.Equal("vxlan", c.BackendType);
        Assert.Empty(c.Warnings);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0")]
    [InlineData("10.0.0.0/22", 24, "10.0.1.0", "10.0.3.0")]
    [InlineData("10.0.0.0/23", 25, "10.0.0.128", "10.0.1.128")]
    [InlineData("10.0.0.0/28", 30, "10.0.0.4", "10.0.0.12")]
    public void SubnetLen_and_range_defaults(string network, int len, string min, string max)
    {
        var c = Parse("{\"Network\":\"" + network + "\",\"Backend\":{\"Type\":\"udp\"}}");
        Assert.Equal(len, c.SubnetLen);
        Assert.Equal(min, c.SubnetMin.ToString());
        Assert.Equal(max, c.SubnetMax.ToString());
    }

    [Fact]
    public void Keys_are_case_insensitive_and_host_bits_are_masked()
    {
        var c = Parse("""{"network":"10.3.7.9/16","SUBNETLEN":26,"backend":{"type":"host-gw"}}""");
        Assert.Equal("10.3.0.0/16", c.Network.ToString());
        Assert.Equal(26, c.SubnetLen);
        Assert.Equal("host-gw", c.BackendType);
        Assert.Empty(c.Warnings);
    }

    [Fact]
    public void Explicit_min_and_max_are_kept_and_min_greater_than_max_is_not_rejected()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","SubnetMin":"10.0.50.0","SubnetMax":"10.0.40.0","Backend":{"Type":"udp"}}""");
        Assert.Equal("10.0.50.0", c.SubnetMin.ToString());
        Assert.Equal("10.0.40.0", c.SubnetMax.ToString());
    }

    [Theory]
    [InlineData("""{"Backend":{"Type":"vxlan"}}""", "please define a correct Network parameter in the flannel config")]
    [InlineData("""{"Network":"0.0.0.0/0"}""", "please define a correct Network parameter in the flannel config")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":31}""", "SubnetLen must be less than /31")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":17}""", "network must be able to accommodate at least four subnets")]
    [InlineData("""{"Network":"10.0.0.0/29"}""", "network is too small. Minimum useful network prefix is /28")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMin":"10.1.0.0"}""", "SubnetMin is not in the range of the Network")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMax":"10.1.0.0"}""", "SubnetMax is not in the range of the Network")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMin":"10.0.5.1"}""", "SubnetMin is not on a SubnetLen boundary: 10.0.5.1")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMax":"10.0.5.1"}""", "SubnetMax is not on a SubnetLen boundary: 10.0.5.1")]
    [InlineData("""{"Network":"10.0.0.0"}""", "invalid CIDR address: 10.0.0.0")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMin":"x"}""", "Invalid IP address format")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":"24"}""", "json: cannot unmarshal string into Go struct field Config.SubnetLen of type uint")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":-1}""", "json: cannot unmarshal number -1 into Go struct field Config.SubnetLen of type uint")]
    [InlineData("""{"Network":"10.0.0.0/16","EnableIPv6":"yes"}""", "json: cannot unmarshal string into Go struct field Config.EnableIPv6 of type bool")]
    [InlineData("""["Network"]""", "json: cannot unmarshal array into Go value of type subnet.Config")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":"vxlan"}""", "error decoding Backend property of config: json: cannot unmarshal string into Go value of type struct { Type string }")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":{"Type":1}}""", "error decoding Backend property of config: json: cannot unmarshal number into Go struct field .Type of type string")]
    public void IPv4_errors_use_flanneld_wording(string json, string message) => Fails(json, message);

    [Theory]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16"}""", "please define a correct IPv6Network parameter in the flannel config")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/125"}""", "IPv6Network is too small. Minimum useful network prefix is /124")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetLen":127}""", "SubnetLen must be less than /127")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetLen":49}""", "network must be able to accommodate at least four subnets")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetMin":"fd01::"}""", "IPv6SubnetMin is not in the range of the IPv6Network")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetMax":"fd01::"}""", "IPv6SubnetMax is not in the range of the IPv6Network")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetMin":"fd00:0:0:1::1"}""", "IPv6SubnetMin is not on a SubnetLen boundary: fd00:0:0:1::1")]
    [InlineData("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/48","IPv6SubnetMax":"fd00:0:0:1::1"}""", "IPv6SubnetMax is not on a SubnetLen boundary: fd00:0:0:1::1")]
    public void IPv6_errors_use_flanneld_wording(string json, string message) => Fails(json, message);

    [Fact]
    public void IPv6_defaults()
    {
        var c = Parse("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00:1::/48","Backend":{"Type":"vxlan"}}""");
        Assert.Equal(64, c.IPv6SubnetLen);
        Assert.Equal("fd00:1:0:1::", c.IPv6SubnetMin!.Value.ToString());
        Assert.Equal("fd00:1:0:ffff::", c.IPv6SubnetMax!.Value.ToString());
        var small = Parse("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/120","Backend":{"Type":"vxlan"}}""");
        Assert.Equal(122, small.IPv6SubnetLen);
    }

    [Fact]
    public void IPv4_checks_are_skipped_when_ipv4_is_disabled()
    {
        var c = Parse("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00::/48","Backend":{"Type":"vxlan"}}""");
        Assert.False(c.EnableIPv4);
        Assert.Equal(64, c.IPv6SubnetLen);
    }

    [Fact]
    public void Missing_backend_falls_back_to_udp_with_a_warning()
    {
        var c = Parse("""{"Network":"10.0.0.0/16"}""");
        Assert.Equal("udp", c.BackendType);
        Assert.Contains(c.Warnings, w => w.Contains("udp", StringComparison.Ordinal) && w.Contains("Backend", StringComparison.Ordinal));
    }

    [Fact]
    public void Misspelt_backend_key_is_ignored_like_flanneld_and_warned_with_a_suggestion()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","Backen":{"Type":"vxlan"}}""");
        Assert.Equal("udp", c.BackendType);
        Assert.Contains(c.Warnings, w => w.Contains("\"Backen\"", StringComparison.Ordinal) && w.Contains("did you mean \"Backend\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("SubentLen", "SubnetLen")]
    [InlineData("Netwrk", "Network")]
    [InlineData("EnableIPv7", "EnableIPv4")]
    public void Near_misses_get_a_suggestion(string key, string suggestion)
    {
        var c = Parse("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"udp\"},\"" + key + "\":1}");
        Assert.Contains(c.Warnings, w => w.Contains($"did you mean \"{suggestion}\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Far_unknown_keys_are_warned_without_suggestion()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","Backend":{"Type":"udp"},"Colour":"blue"}""");
        var w = Assert.Single(c.Warnings);
        Assert.Contains("\"Colour\"", w, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", w, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_or_null_backend_gives_empty_type_like_flanneld()
    {
        Assert.Equal("", Parse("""{"Network":"10.0.0.0/16","Backend":{}}""").BackendType);
        Assert.Equal("", Parse("""{"Network":"10.0.0.0/16","Backend":null}""").BackendType);
    }

    [Fact]
    public void Backend_specific_keys_are_kept_for_the_backend()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","Backend":{"Type":"VXLAN","VNI":4096,"DirectRouting":true}}""");
        Assert.Equal("VXLAN", c.BackendType);
        Assert.Contains("\"VNI\":4096", c.BackendJson, StringComparison.Ordinal);
        Assert.Contains("\"DirectRouting\":true", c.BackendJson, StringComparison.Ordinal);
    }

    [Fact]
    public void Last_duplicate_wins_like_go()
    {
        var c = Parse("""{"Network":"10.1.0.0/16","network":"10.2.0.0/16","Backend":{"Type":"udp"}}""");
        Assert.Equal("10.2.0.0/16", c.Network.ToString());
    }

    [Fact]
    public void Invalid_json_is_an_error() =>
        Assert.StartsWith("invalid JSON", Assert.Throws<NetworkConfigException>(() => Parse("{\"Network\":")).Message, StringComparison.Ordinal);

    [Fact]
    public void Compatibility_check_follows_min_max_and_len()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","SubnetMin":"10.0.10.0","SubnetMax":"10.0.20.0","Backend":{"Type":"udp"}}""");
        Assert.True(c.IsCompatible(Key("10.0.10.0-24")));
        Assert.True(c.IsCompatible(Key("10.0.20.0-24")));
        Assert.False(c.IsCompatible(Key("10.0.21.0-24")));
        Assert.False(c.IsCompatible(Key("10.0.9.0-24")));
        Assert.False(c.IsCompatible(Key("10.0.12.0-25")));
        Assert.False(c.IsCompatible(Key("10.0.12.0-24&fd00::-64"))); // IPv6 part where IPv6 is off
    }

    private static SubnetKey Key(string s) => SubnetKeyCodec.TryParse(s, out var k) ? k : throw new ArgumentException(s);
}
