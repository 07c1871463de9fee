namespace Flannel.Backends.Tests;

[Unit]
public class BackendTypesTests
{
    [Theory]
    [InlineData("host-gw", "host-gw")]
    [InlineData("Host-GW", "host-gw")]
    [InlineData("HOST-GW", "host-gw")]
    public void Types_are_looked_up_lower_cased_like_flanneld(string type, string expected) =>
        Assert.Equal(expected, BackendTypes.Normalize(type));

    [Theory]
    [InlineData("")]
    [InlineData("ipsec")]
    [InlineData("hostgw")]
    public void Unknown_types_are_refused_with_flanneld_wording(string type)
    {
        Assert.Null(BackendTypes.Normalize(type));
        Assert.False(BackendTypes.IsKnown(type));
        Assert.StartsWith($"unknown backend type: {type} (supported: ", BackendTypes.UnknownTypeMessage(type), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_supported_type_is_known() => Assert.All(BackendTypes.Supported, t => Assert.True(BackendTypes.IsKnown(t)));
}
