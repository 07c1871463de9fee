using Flannel.Backends.Udp;
using Flannel.Daemon.Cli;

namespace Flannel.Daemon.Tests;

/// <summary><c>--udp-source-check</c>: default, command line, FLANNELD_UDP_SOURCE_CHECK, refusal of other values, --help.</summary>
[Unit]
public sealed class UdpSourceCheckFlagSetTests
{
    private static (DaemonFlags Flags, string? Invalid) Parse(string[] args, Dictionary<string, string>? env = null)
    {
        var flags = new DaemonFlags();
        flags.Set.Parse(args, k => env?.GetValueOrDefault(k));
        return (flags, flags.Validate());
    }

    [Fact]
    public void Strict_by_default()
    {
        var (flags, invalid) = Parse([]);
        Assert.Null(invalid);
        Assert.Equal(UdpSourceCheck.Strict, DaemonSettings.From(flags).UdpSourceCheck);
    }

    [Theory]
    [InlineData("--udp-source-check=subnet", UdpSourceCheck.Subnet)]
    [InlineData("--udp-source-check=off", UdpSourceCheck.Off)]
    [InlineData("-udp-source-check=strict", UdpSourceCheck.Strict)]
    public void Read_from_the_command_line(string arg, UdpSourceCheck expected)
    {
        var (flags, invalid) = Parse([arg]);
        Assert.Null(invalid);
        Assert.Equal(expected, DaemonSettings.From(flags).UdpSourceCheck);
    }

    [Fact]
    public void Read_from_FLANNELD_UDP_SOURCE_CHECK_unless_given_on_the_command_line()
    {
        var env = new Dictionary<string, string> { ["FLANNELD_UDP_SOURCE_CHECK"] = "subnet" };
        Assert.Equal(UdpSourceCheck.Subnet, DaemonSettings.From(Parse([], env).Flags).UdpSourceCheck);
        Assert.Equal(UdpSourceCheck.Off, DaemonSettings.From(Parse(["--udp-source-check", "off"], env).Flags).UdpSourceCheck);
    }

    [Theory]
    [InlineData("loose")]
    [InlineData("true")]
    public void Other_values_are_refused_with_the_accepted_ones_named(string value)
    {
        var (_, invalid) = Parse(["--udp-source-check=" + value]);
        Assert.Equal($"invalid --udp-source-check {value}: use strict, subnet or off", invalid);
    }

    [Fact]
    public void Listed_in_the_network_group_of_the_help_with_its_variable()
    {
        string help = HelpText.Render(new DaemonFlags());
        int network = help.IndexOf("\nnetwork:", StringComparison.Ordinal);
        int flag = help.IndexOf("--udp-source-check value", StringComparison.Ordinal);
        Assert.True(network >= 0 && flag > network, help);
        Assert.Contains("env FLANNELD_UDP_SOURCE_CHECK", help, StringComparison.Ordinal);
        Assert.Contains("(default \"strict\")", help, StringComparison.Ordinal);
    }
}
