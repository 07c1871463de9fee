namespace Flannel.Backends.Tests;

public class BackendTypesTests
{
    [Theory]
    [InlineData("vxlan", "vxlan")]
    [InlineData("VXLAN", "vxlan")]
    [InlineData("Host-GW", "host-gw")]
    [InlineData("udp", "udp")]
    public void Types_are_looked_up_lower_cased_like_flanneld(string type, string expected) =>
        Assert.Equal(expected, BackendTypes.Normalize(type));

    [Theory]
    [InlineData("")]
    [InlineData("ipsec")]
    [InlineData("hostgw")]
    public void Unknown_types_are_refused_with_flanneld_wording(string type)
    {
        Assert.Null(BackendTypes.Normalize(type));
        Assert.StartsWith($"unknown backend type: {type} (supported: ", BackendTypes.UnknownTypeMessage(type), StringComparison.Ordinal);
    }
}
