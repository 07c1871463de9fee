using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Tests;

[Unit]
public class SubnetKeyCodecTests
{
    [Theory]
    [InlineData("10.5.52.0-24", "10.5.52.0/24", null)]
    [InlineData("/coreos.com/network/subnets/10.5.52.0-24", "10.5.52.0/24", null)]
    [InlineData("10.12.13.0-24&fd00:12:13::-56", "10.12.13.0/24", "fd00:12:13::/56")]
    [InlineData("/coreos.com/network/subnets/10.12.13.0-24&fd00:12:13::-56", "10.12.13.0/24", "fd00:12:13::/56")]
    [InlineData("10.5.52.7-24", "10.5.52.7/24", null)] // host bits are not checked
    [InlineData("10.5.52.0-024", "10.5.52.0/24", null)] // ParseUint takes leading zeros
    [InlineData("10.5.52.0-31", "10.5.52.0/31", null)]
    [InlineData("10.5.52.0-0", "10.5.52.0/0", null)]
    [InlineData("10.5.52.0-24&fd00::-127", "10.5.52.0/24", "fd00::/127")]
    public void Parses_accepted_keys(string text, string v4, string? v6)
    {
        Assert.True(SubnetKeyCodec.TryParse(text, out var key));
        Assert.Equal(v4, key.Subnet.ToString());
        Assert.Equal(v6, key.Ipv6Subnet?.ToString());
    }

    [Theory]
    [InlineData("10.5.52.0-32")] // 5-bit prefix: /32 is rejected by flannel
    [InlineData("10.5.52.0-99")]
    [InlineData("10.5.52.0/24")]
    [InlineData("10.5.52-24")]
    [InlineData("10.5.52.300-24")]
    [InlineData("010.5.52.0-24")]
    [InlineData("10.5.52.0-24&FD00::-64")] // only lowercase hex
    [InlineData("10.5.52.0-24&fd00::-128")] // 7-bit prefix
    [InlineData("10.5.52.0-24&fd00::")]
    [InlineData("10.5.52.0-24\n")]
    [InlineData("10.5x52.0-24")]
    [InlineData("fd00::-64")] // no IPv6-only form
    [InlineData("")]
    public void Rejects_what_flannel_rejects(string text) => Assert.False(SubnetKeyCodec.TryParse(text, out _));

    [Fact]
    public void The_unescaped_dot_of_flannels_pattern_matches_any_character_but_the_address_must_still_parse()
    {
        // flannel's regex has "\d+.\d+" for the last two dots: "10.5.52x0-24" matches the pattern but is no address.
        Assert.False(SubnetKeyCodec.TryParse("10.5.52x0-24", out _));
    }

    [Fact]
    public void Formats_like_MakeSubnetKey()
    {
        var v4 = Ip4Network.ParseCidr("10.5.52.0/24");
        Assert.Equal("10.5.52.0-24", SubnetKeyCodec.Format(new SubnetKey(v4)));
        var v6 = Ip6Network.ParseCidr("FD00:12:13:0::/56");
        Assert.Equal("10.5.52.0-24&fd00:12:13::-56", SubnetKeyCodec.Format(new SubnetKey(v4, v6)));
    }

    [Fact]
    public void Round_trips()
    {
        foreach (var text in new[] { "10.0.0.0-8", "192.168.3.0-26&fc00:0:0:5::-64", "10.255.255.252-30" })
        {
            Assert.True(SubnetKeyCodec.TryParse(text, out var key));
            Assert.Equal(text, key.ToString());
        }
    }
}
