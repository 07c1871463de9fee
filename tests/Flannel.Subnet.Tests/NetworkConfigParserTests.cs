using Flannel.Subnet.Config;

namespace Flannel.Subnet.Tests;

[Unit]
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
    public void IPv4_errors_use_flanneld_wording(string json, string message) => Fails(json, message);

    // Where flanneld's message is Go's decoder or net package talking, ours says it in the config's terms.
    [Theory]
    [InlineData("""{"Network":"10.0.0.0"}""", "Network \"10.0.0.0\" is not a valid IPv4 network (CIDR): it has no prefix length; write it as address/length, e.g. \"10.0.0.0/16\"")]
    [InlineData("""{"Network":"10.0.0.0/33"}""", "Network \"10.0.0.0/33\" is not a valid IPv4 network (CIDR): the prefix length after '/' must be a number from 0 to 32")]
    [InlineData("""{"Network":"10.0.0/16"}""", "Network \"10.0.0/16\" is not a valid IPv4 network (CIDR): \"10.0.0\" is not an IPv4 address")]
    [InlineData("""{"Network":"10.0.0.0/16","EnableIPv6":true,"IPv6Network":"fd00::/129"}""", "IPv6Network \"fd00::/129\" is not a valid IPv6 network (CIDR): the prefix length after '/' must be a number from 0 to 128")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetMin":"x"}""", "SubnetMin \"x\" is not an IPv4 address")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":"24"}""", "SubnetLen must be a whole number, not a string: \"24\"")]
    [InlineData("""{"Network":"10.0.0.0/16","SubnetLen":-1}""", "SubnetLen must be a whole number from 0 up, not -1")]
    [InlineData("""{"Network":"10.0.0.0/16","EnableIPv6":"yes"}""", "EnableIPv6 must be true or false, not a string: \"yes\"")]
    [InlineData("""["Network"]""", "the config must be a JSON object ({...}), not an array: for example {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}")]
    [InlineData("""[]""", "the config must be a JSON object ({...}), not an array: for example {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":"vxlan"}""", "Backend must be a JSON object such as {\"Type\":\"vxlan\"}, not a string: \"vxlan\"")]
    [InlineData("""{"Network":"10.0.0.0/16","Backend":{"Type":1}}""", "Backend.Type must be a string such as \"vxlan\", not a number: 1")]
    [InlineData("", "the config is empty: it must be a JSON object such as {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}")]
    [InlineData(" \n\t ", "the config is empty: it must be a JSON object such as {\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}")]
    public void Errors_are_in_the_operators_terms(string json, string message) => Fails(json, message);

    // Line and column as an editor counts them (1-based, characters not bytes) and what was expected there.
    [Theory]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\n  \"Backend\": {\"Type\":\"vxlan\",}\n}", "invalid JSON at line 2, column 30: expected a key in double quotes, found '}' (JSON allows no comma before '}')")]
    [InlineData("{\"Network\":\"10.0.0.0/16\",\n}", "invalid JSON at line 2, column 1: expected a key in double quotes, found '}' (JSON allows no comma before '}')")]
    [InlineData("{\"Network\": 10.0.0.0/16}", "invalid JSON at line 1, column 13: expected a value (a string in double quotes, a number, true, false, null, an object or an array), found '10.0.0.0' (text such as an address goes in double quotes)")]
    [InlineData("{'Network': \"10.0.0.0/16\"}", "invalid JSON at line 1, column 2: expected a key in double quotes or '}', found a single quote (') (JSON strings and keys use double quotes)")]
    [InlineData("{\"Network\":\"10.0.0.0/16\" \"Backend\":{}}", "invalid JSON at line 1, column 26: expected ',' or '}', found a double quote (\") (is a comma missing?)")]
    [InlineData("{\"Network\" \"10.0.0.0/16\"}", "invalid JSON at line 1, column 12: expected ':' after the key \"Network\", found a double quote (\")")]
    [InlineData("{\"Network\":\"10.0.0.0/16}", "invalid JSON at line 1, column 12: this string is not closed, or holds a character JSON does not allow in a string (a line break, a tab, a control character or a bad \\ escape)")]
    [InlineData("{\"EnableIPv6\":True}", "invalid JSON at line 1, column 15: expected a value (a string in double quotes, a number, true, false, null, an object or an array), found 'True' (JSON writes true, false and null in lower case)")]
    [InlineData("{\"Network\":\"10.0.0.0/16\"}\n}", "invalid JSON at line 2, column 1: found '}' after the end of the config: nothing may follow the closing '}' of its object")]
    [InlineData("// flannel\n{}", "invalid JSON at line 1, column 1: found a comment: JSON has no comments")]
    [InlineData("{\"Network\":\"10.0.0.0/16\"", "invalid JSON at line 1, column 25: expected ',' or '}', found the end of the text")]
    [InlineData("{\"Nétwork\":1,}", "invalid JSON at line 1, column 14: expected a key in double quotes, found '}' (JSON allows no comma before '}')")]
    [InlineData("{\"a\":[1,]}", "invalid JSON at line 1, column 9: expected a value, found ']' (JSON allows no comma before ']')")]
    public void Bad_json_names_the_line_and_column_and_what_was_expected(string json, string message) => Fails(json, message);

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
        Assert.StartsWith("invalid JSON at line 1, column 12: expected a value", Assert.Throws<NetworkConfigException>(() => Parse("{\"Network\":")).Message, StringComparison.Ordinal);

    [Fact]
    public void Unknown_keys_are_listed_and_a_misspelt_backend_explains_the_udp_choice()
    {
        var c = Parse("""{"Network":"10.0.0.0/16","Backen":{"Type":"vxlan"},"Colour":1}""");
        Assert.Equal([new UnknownKey("Backen", "network config", "Backend"), new UnknownKey("Colour", "network config", null)], c.UnknownKeys);
        Assert.Equal("no \"Backend\" key (\"Backen\" looks like a misspelt \"Backend\" and is ignored): flanneld's default", c.BackendChoice);
        Assert.Equal("no \"Backend\" key: flanneld's default", Parse("""{"Network":"10.0.0.0/16"}""").BackendChoice);
        Assert.Equal("Backend.Type \"vxlan\"", Parse("""{"Network":"10.0.0.0/16","Backend":{"Type":"vxlan"}}""").BackendChoice);
        Assert.Empty(Parse("""{"Network":"10.0.0.0/16","backend":{"type":"vxlan"}}""").UnknownKeys); // Go matches keys case-insensitively
    }

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
