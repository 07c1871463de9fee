using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Hostile or broken data in etcd while two vxlan hosts run the published flanneld: bad peer leases are ignored with
/// exactly one warning each and never reach the kernel, and a bad or incompatible config put while running is
/// reported and does not touch the running data path. Needs root (CI runs as root).
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed partial class HostileEtcdEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hostile_peer_leases_are_ignored_once_never_programmed_and_good_peers_keep_working()
    {
        var sw = Stopwatch.StartNew();
        const string prefix = "/e2e-hostile/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.72.0.0/16","Backend":{"Type":"vxlan"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1450);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1450);
        string a1 = Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a2 = Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]);
        Assert.True(Testbed.Ping(c1, a2), $"c1 -> c2 before\n{bed.LogOf(d1.Process)}");
        Assert.True(Testbed.Ping(c2, a1), "c2 -> c1 before");

        // Host 2's /24 as a /25 inside it and a /23 around it (keys with another prefix length than SubnetLen).
        var octets = net2.Split('/')[0].Split('.');
        int third = int.Parse(octets[2], System.Globalization.CultureInfo.InvariantCulture);
        string inside = $"10.72.{third}.0-25", around = $"10.72.{third & ~1}.0-23";
        var hostile = new (string Key, string Value, string Expect)[]
        {
            ("10.72.201.0-24", """{"PublicIP":"198.51.100.41","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"de:ad""", "not valid JSON"),
            ("10.72.202.0-24", Vxlan("2001:db8::42", "de:ad:be:ef:00:02"), "PublicIP is an IPv6 address"),
            ("10.99.5.0-24", Vxlan("198.51.100.43", "de:ad:be:ef:00:03"), "outside the network 10.72.0.0/16"),
            (inside, Vxlan("198.51.100.44", "de:ad:be:ef:00:04"), "is a /25"),
            (around, Vxlan("198.51.100.45", "de:ad:be:ef:00:05"), "is a /23"),
            ("10.72.203.0-24", Vxlan("198.51.100.1", "de:ad:be:ef:00:06"), "this host's own"),
            ("10.72.204.0-24", """{"PublicIP":"198.51.100.47","BackendType":"ipsec","BackendData":{"SPI":1}}""", "backend type ipsec"),
        };
        foreach (var (key, value, _) in hostile)
        {
            bed.Etcdctl(true, "put", $"{prefix}/subnets/{key}", value);
        }
        // 1 MB: a well-formed vxlan lease padded far beyond anything flannel writes (too long for a command line: stdin).
        string bigKey = "10.72.205.0-24";
        string big = Vxlan("198.51.100.48", "de:ad:be:ef:00:08")[..^1] + ",\"Pad\":\"" + new string('x', 1 << 20) + "\"}";
        string bigFile = Path.Combine(bed.Directory, "big.json");
        await File.WriteAllTextAsync(bigFile, big, Encoding.ASCII);
        Testbed.Exec(bed.SwitchNs, ["sh", "-c", $"ETCDCTL_API=3 etcdctl --endpoints {bed.EtcdEndpoint} put {prefix}/subnets/{bigKey} < {bigFile}"]);
        Assert.Equal(big.Length, bed.Etcdctl(true, "get", "--print-value-only", $"{prefix}/subnets/{bigKey}").Stdout.TrimEnd('\n').Length);

        var expected = hostile.Select(h => (Key: h.Key, Expect: h.Expect)).Append((Key: bigKey, Expect: "bytes, more than the")).ToList();
        await Wait.UntilAsync(() => expected.All(e => Warnings(bed.LogOf(d1.Process), e.Key, e.Expect) >= 1), TimeSpan.FromSeconds(10),
            "host 1 warned about every hostile lease");
        output.WriteLine($"all warnings after {sw.Elapsed.TotalSeconds:F1} s");

        // Past a 10 s vxlan reconcile and a peer change (which the watch delivers alone): still one warning each.
        bed.Etcdctl(true, "put", $"{prefix}/subnets/10.72.206.0-24", Vxlan("198.51.100.49", "de:ad:be:ef:00:09"));
        await Task.Delay(TimeSpan.FromSeconds(11));
        string log1 = bed.LogOf(d1.Process);
        foreach (var (key, expect) in expected)
        {
            Assert.True(Warnings(log1, key, expect) == 1, $"exactly one warning for {key} ({expect}):\n{log1}");
        }
        foreach (var (key, _) in expected)
        {
            Assert.DoesNotContain("Peer lease added: " + key, log1, StringComparison.Ordinal);
        }

        // Nothing of theirs in host 1's kernel (10.72.206.0/24 is a well-formed lease of an absent host: programmed).
        string routes = Testbed.Ip(h1, "route"), neigh = Testbed.Ip(h1, "neigh", "show", "dev", "flannel.1");
        string fdb = Command.Run("bridge", "-n", h1, "fdb", "show", "dev", "flannel.1");
        foreach (var bad in (string[])["10.72.201.", "10.72.202.", "10.72.203.", "10.72.204.", "10.72.205.", "10.99.", "/25", "/23"])
        {
            Assert.DoesNotContain(bad, routes + neigh, StringComparison.Ordinal);
        }
        foreach (var mac in (string[])["00:02", "00:03", "00:04", "00:05", "00:06", "00:08"])
        {
            Assert.DoesNotContain("de:ad:be:ef:" + mac, fdb + neigh, StringComparison.Ordinal);
        }
        Assert.Contains("de:ad:be:ef:00:09 dst 198.51.100.49", fdb, StringComparison.Ordinal);
        Assert.Contains($"{net2} via", routes, StringComparison.Ordinal);

        Assert.True(Testbed.Ping(c1, a2), $"c1 -> c2 after\n{log1}");
        Assert.True(Testbed.Ping(c2, a1), "c2 -> c1 after");
        Assert.False(d1.Process.HasExited || d2.Process.HasExited, "a daemon died");
        output.WriteLine(log1);
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
        output.WriteLine($"took {sw.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Hostile_config_put_while_running_is_reported_and_the_running_network_is_kept()
    {
        var sw = Stopwatch.StartNew();
        const string prefix = "/e2e-hostile-config/network";
        const string config = """{"Network":"10.73.0.0/16","Backend":{"Type":"vxlan"}}""";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", config);
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1450);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1450);
        string a1 = Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a2 = Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]);
        Assert.True(Testbed.Ping(c1, a2), $"c1 -> c2 before\n{bed.LogOf(d1.Process)}");
        string routesBefore = Testbed.Ip(h1, "route");
        string subnetFileBefore = await File.ReadAllTextAsync(d1.SubnetFile);

        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.73.0.0/16","Backend":{"Type":"vxlan"}""");
        await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("changed in etcd but is invalid", StringComparison.Ordinal),
            TimeSpan.FromSeconds(8), "host 1 says the new config is invalid");
        Assert.Contains("keeping the running config", bed.LogOf(d1.Process), StringComparison.Ordinal);
        Assert.True(Testbed.Ping(c1, a2), "c1 -> c2 with an invalid config in etcd");
        Assert.True(Testbed.Ping(c2, a1), "c2 -> c1 with an invalid config in etcd");

        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.74.0.0/16","Backend":{"Type":"vxlan"}}""");
        await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("restart flanneld to apply it", StringComparison.Ordinal),
            TimeSpan.FromSeconds(8), "host 1 says the Network change needs a restart");
        Assert.Contains("Network 10.73.0.0/16 -> 10.74.0.0/16", bed.LogOf(d1.Process), StringComparison.Ordinal);
        Assert.True(Testbed.Ping(c1, a2), "c1 -> c2 with another Network in etcd");
        Assert.Equal(routesBefore, Testbed.Ip(h1, "route"));
        Assert.Equal(subnetFileBefore, await File.ReadAllTextAsync(d1.SubnetFile));

        bed.Etcdctl(true, "put", prefix + "/config", config);
        await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("matches the running config", StringComparison.Ordinal),
            TimeSpan.FromSeconds(8), "host 1 acknowledges the original config");
        Assert.True(Testbed.Ping(c1, a2), "c1 -> c2 after");
        Assert.True(Testbed.Ping(c2, a1), "c2 -> c1 after");
        Assert.Equal(routesBefore, Testbed.Ip(h1, "route"));
        string log1 = bed.LogOf(d1.Process);
        Assert.Single(Regex.Matches(log1, "changed in etcd but is invalid"));
        Assert.Single(Regex.Matches(log1, "restart flanneld to apply it"));
        Assert.False(d1.Process.HasExited || d2.Process.HasExited, "a daemon died");
        output.WriteLine(log1);
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
        output.WriteLine($"took {sw.Elapsed.TotalSeconds:F1} s");
    }

    private static string Vxlan(string publicIp, string mac) =>
        $$$"""{"PublicIP":"{{{publicIp}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"}}""";

    /// <summary>Warning lines about <paramref name="key"/> (as the key or as the subnet) that contain <paramref name="expect"/>.</summary>
    private static int Warnings(string log, string key, string expect)
    {
        string subnet = key.Replace('-', '/');
        return log.Split('\n').Count(l => (l.Contains(key, StringComparison.Ordinal) || l.Contains(subnet, StringComparison.Ordinal)) &&
                                          l.Contains(expect, StringComparison.Ordinal));
    }
}
