using Flannel.Backends.Udp;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>The udp backend's config keys (compat §6): Port, default 8285, 0 meaning the default as in flanneld.</summary>
[Unit]
public class UdpOptionsTests
{
    [Theory]
    [InlineData("""{"Type":"udp"}""")]
    [InlineData("""{"Type":"udp","Port":0}""")]
    [InlineData("{}")]
    [InlineData("null")]
    public void Port_defaults_to_8285(string json)
    {
        Assert.Equal(8285, UdpOptions.Parse(json).Port);
        Assert.Equal(8285, UdpOptions.DefaultPort);
    }

    [Theory]
    [InlineData("""{"Type":"udp","Port":9000}""", 9000)]
    [InlineData("""{"Type":"udp","Port":1}""", 1)]
    [InlineData("""{"Type":"udp","Port":65535}""", 65535)]
    public void Port_is_taken_as_given(string json, int expected)
    {
        Assert.Equal(expected, UdpOptions.Parse(json).Port);
    }

    [Theory]
    [InlineData("""{"Type":"udp","Port":"9000"}""")]
    [InlineData("""{"Type":"udp","Port":-1}""")]
    [InlineData("""{"Type":"udp","Port":70000}""")]
    [InlineData("""{"Type":"udp","Port":65536}""")]
    [InlineData("""{"Type":"udp","Port":80.5}""")]
    [InlineData("""{"Type":"udp","Port":null}""")]
    [InlineData("""{"Type":"udp","Port":true}""")]
    public void Port_that_is_not_a_number_in_range_is_rejected(string json)
    {
        var e = Assert.Throws<BackendException>(() => UdpOptions.Parse(json));
        Assert.Contains("Port", e.Message, StringComparison.Ordinal);
    }
}
