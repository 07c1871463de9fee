using Flannel.Subnet;
using Flannel.Daemon.EnvFiles;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests;

[Unit]
public class DockerDaemonJsonTests
{
    private static readonly SubnetEnv Env = new(Ip4Network.ParseCidr("10.5.0.0/16"), Ip4Network.ParseCidr("10.5.3.0/24"), null, null, 1450, IpMasq: true);

    [Fact]
    public void Keys_that_the_docker_options_also_pass_are_reported_with_both_values()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "daemon.json");
        File.WriteAllText(path, """{"bip":"10.5.3.1/24","mtu":1500,"ip-masq":false,"log-driver":"journald"}""");
        var clashes = DockerDaemonJson.Check(path, Env);
        Assert.Equal(["bip", "mtu", "ip-masq"], clashes.Select(c => c.Key));
        Assert.True(clashes[0].Same);
        Assert.False(clashes[1].Same); // 1500 vs our 1450
        Assert.True(clashes[2].Same); // we masquerade, so dockerd gets --ip-masq=false
        string text = DockerDaemonJson.Describe(path, clashes);
        Assert.Contains("mtu=1500 (differs from --mtu=1450 in the docker options)", text, StringComparison.Ordinal);
        Assert.Contains("remove \"bip\", \"mtu\", \"ip-masq\" from " + path, text, StringComparison.Ordinal);
    }

    [Fact]
    public void With_an_IPv6_lease_ipv6_and_fixed_cidr_v6_clash_too_and_only_then()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "daemon.json");
        File.WriteAllText(path, """{"ipv6":true,"fixed-cidr-v6":"2001:db8:52:9::/64"}""");
        Assert.Empty(DockerDaemonJson.Check(path, Env));
        var dual = Env with { Ipv6Network = Ip6Network.ParseCidr("2001:db8:52::/48"), Ipv6Subnet = Ip6Network.ParseCidr("2001:db8:52:7::/64") };
        var clashes = DockerDaemonJson.Check(path, dual);
        Assert.Equal(["ipv6", "fixed-cidr-v6"], clashes.Select(c => c.Key));
        Assert.True(clashes[0].Same);
        Assert.False(clashes[1].Same);
    }

    [Fact]
    public void No_file_or_no_clashing_key_is_fine_and_a_broken_file_is_an_error()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "daemon.json");
        Assert.Empty(DockerDaemonJson.Check(path, Env));
        File.WriteAllText(path, """{"log-driver":"journald"}""");
        Assert.Empty(DockerDaemonJson.Check(path, Env));
        File.WriteAllText(path, "{\"bip\": ");
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => DockerDaemonJson.Check(path, Env));
        File.WriteAllText(path, "[1]");
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => DockerDaemonJson.Check(path, Env));
    }

    [Fact]
    public void Without_the_docker_options_every_such_key_is_reported()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "daemon.json");
        File.WriteAllText(path, """{"mtu":1450,"bip":"10.5.3.1/24"}""");
        var clashes = DockerDaemonJson.Check(path, null);
        Assert.Equal(["mtu", "bip"], clashes.Select(c => c.Key));
        Assert.Contains("mtu=1450 (also a flag in the docker options)", DockerDaemonJson.Describe(path, clashes), StringComparison.Ordinal);
    }
}
