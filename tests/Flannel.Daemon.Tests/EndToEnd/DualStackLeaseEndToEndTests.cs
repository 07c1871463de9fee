using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// EnableIPv6 on a dual-stack underlay (198.51.100.N and 2001:db8:100::N on each host's eth0): the lease key is
/// flanneld's dual-stack key, its value carries the interface's IPv6 address as PublicIPv6 byte for byte, the subnet
/// file has both families, and a restart keeps both subnets.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class DualStackLeaseEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_dual_stack_lease_carries_PublicIPv6_and_survives_a_restart()
    {
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dual/network";
        bed.Etcdctl(true, "put", prefix + "/config",
            """{"Network":"10.52.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:52::/48","Backend":{"Type":"host-gw"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        // nodad: the address is usable at once (duplicate address detection would hold it tentative for a second).
        Testbed.Ip(h1, "-6", "addr", "add", "2001:db8:100::1/64", "dev", "eth0", "nodad");
        Testbed.Ip(h2, "-6", "addr", "add", "2001:db8:100::2/64", "dev", "eth0", "nodad");

        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix, ["--public-ipv6", "2001:db8:100::22"]);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        output.WriteLine(string.Join(' ', env1.Select(kv => kv.Key + "=" + kv.Value)));
        Assert.Equal("2001:db8:52::/48", env1["FLANNEL_IPV6_NETWORK"]);
        Assert.EndsWith("::1/64", env1["FLANNEL_IPV6_SUBNET"], StringComparison.Ordinal);
        Assert.NotEqual(env1["FLANNEL_IPV6_SUBNET"], env2["FLANNEL_IPV6_SUBNET"]);

        // flanneld's key: <v4>-<len>&<v6>-<len6>; the value as flanneld writes it.
        string key1 = $"{prefix}/subnets/{TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]).Replace('/', '-')}&" +
                      $"{V6NetworkOf(env1["FLANNEL_IPV6_SUBNET"]).Replace('/', '-')}";
        string key2 = $"{prefix}/subnets/{TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]).Replace('/', '-')}&" +
                      $"{V6NetworkOf(env2["FLANNEL_IPV6_SUBNET"]).Replace('/', '-')}";
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":"2001:db8:100::1","BackendType":"host-gw"}""",
            bed.Etcdctl(true, "get", "--print-value-only", key1).Stdout.Trim());
        Assert.Equal("""{"PublicIP":"198.51.100.2","PublicIPv6":"2001:db8:100::22","BackendType":"host-gw"}""",
            bed.Etcdctl(true, "get", "--print-value-only", key2).Stdout.Trim());

        // The subnet file is written just before the start ends; a SIGTERM before "Ready" is a stop while starting.
        await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("Ready: subnet", StringComparison.Ordinal) &&
            bed.LogOf(d2.Process).Contains("Ready: subnet", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "both daemons ready");
        string log1 = bed.LogOf(d1.Process);
        Assert.Contains("Using interface eth0 with IPv6 address 2001:db8:100::1, publishing PublicIPv6 2001:db8:100::1", log1, StringComparison.Ordinal);
        Assert.DoesNotContain("routes IPv4 only", log1, StringComparison.Ordinal);

        // A restart asks for both previous subnets again (the subnet file) and gets the same key.
        Assert.Equal(0, await d1.StopAsync());
        var d1b = TestDaemon.Start(bed, h1, prefix);
        var env1b = await d1b.WaitForSubnetEnvAsync(bed);
        await Wait.UntilAsync(() => bed.LogOf(d1b.Process).Contains("Ready: subnet", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "restarted daemon ready");
        Assert.Equal((env1["FLANNEL_SUBNET"], env1["FLANNEL_IPV6_SUBNET"]), (env1b["FLANNEL_SUBNET"], env1b["FLANNEL_IPV6_SUBNET"]));
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":"2001:db8:100::1","BackendType":"host-gw"}""",
            bed.Etcdctl(true, "get", "--print-value-only", key1).Stdout.Trim());
        Assert.Equal(0, await d1b.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    // FLANNEL_IPV6_SUBNET is the subnet's first host (2001:db8:52:7::1/64): its network is the key's part.
    private static string V6NetworkOf(string flannelSubnet) =>
        Flannel.Subnet.Ip.Ip6Network.TryParseCidr(flannelSubnet, out var n) ? n.ToString() : throw new FormatException(flannelSubnet);
}
