using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Tests;

[Unit]
public class IpTests
{
    [Theory]
    [InlineData("10.5.52.0", 0x0A053400u)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    public void Ip4_parses_and_formats(string text, uint value)
    {
        Assert.True(Ip4Address.TryParse(text, out var ip));
        Assert.Equal(value, ip.Value);
        Assert.Equal(text, ip.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.256")]
    [InlineData("010.0.0.1")]
    [InlineData("10.0.0.1 ")]
    [InlineData("10.0.0.1.2")]
    [InlineData("+1.0.0.1")]
    [InlineData("1234.0.0.1")]
    [InlineData("fd00::1")]
    public void Ip4_rejects_what_go_rejects(string text) => Assert.False(Ip4Address.TryParse(text, out _));

    [Fact]
    public void Cidr_parse_masks_host_bits_like_go()
    {
        Assert.Equal("10.3.0.0/16", Ip4Network.ParseCidr("10.3.7.9/16").ToString());
        Assert.False(Ip4Network.TryParseCidr("10.0.0.0/33", out _));
        Assert.False(Ip4Network.TryParseCidr("10.0.0.0/016", out _));
        Assert.False(Ip4Network.TryParseCidr("10.0.0.0", out _));
    }

    [Fact]
    public void Contains_overlaps_next()
    {
        var net = Ip4Network.ParseCidr("10.0.0.0/16");
        var sub = Ip4Network.ParseCidr("10.0.9.0/24");
        Assert.True(net.Contains(sub));
        Assert.False(sub.Contains(net));
        Assert.True(net.Contains(Ip4Address.Parse("10.0.255.255")));
        Assert.False(net.Contains(Ip4Address.Parse("10.1.0.0")));
        Assert.True(sub.Overlaps(net));
        Assert.True(net.Overlaps(sub));
        Assert.False(sub.Overlaps(Ip4Network.ParseCidr("10.0.10.0/24")));
        Assert.Equal("10.0.10.0/24", sub.Next().ToString());
        Assert.Equal("10.1.0.0/16", net.Next().ToString());
        Assert.Equal("10.0.9.1", sub.FirstHost.ToString());
    }

    [Theory]
    [InlineData("fd00:12:13::", "fd00:12:13::")]
    [InlineData("FD00:0012:0013:0:0:0:0:0", "fd00:12:13::")]
    [InlineData("fc00:0:0:5::", "fc00:0:0:5::")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("2001:db8::", "2001:db8::")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0")]
    public void Ip6_formats_like_go(string input, string expected) => Assert.Equal(expected, Ip6Address.Parse(input).ToString());

    [Fact]
    public void Ip6_network_operations()
    {
        var net = Ip6Network.ParseCidr("fd00:1::/48");
        var sub = Ip6Network.ParseCidr("fd00:1:0:5::/64");
        Assert.True(net.Contains(sub));
        Assert.True(net.Overlaps(sub));
        Assert.Equal("fd00:1:0:6::/64", sub.Next().ToString());
        Assert.False(Ip6Network.TryParseCidr("fd00::/129", out _));
        Assert.False(Ip6Address.TryParse("10.0.0.1", out _));
        Assert.False(Ip6Address.TryParse("fe80::1%eth0", out _));
    }
}
