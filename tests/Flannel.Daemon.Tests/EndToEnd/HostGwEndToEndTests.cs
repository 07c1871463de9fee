using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Two simulated hosts in network namespaces, each running flanneld with host-gw against a real etcd; containers on
/// them ping each other. Needs root (CI runs as root): without it the test fails.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class HostGwEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Containers_on_two_hosts_ping_each_other_over_host_gw()
    {
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e/network";
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.50.0.0/16","Backend":{"Type":"host-gw"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);

        var d1 = TestDaemon.Start(bed, h1, prefix);
        // Host 2 runs "under systemd": NOTIFY_SOCKET, and dockerd's options written by the daemon itself.
        string dockerOpts = Path.Combine(bed.Directory, "h2.docker");
        using var notify = new NotifySocket(Path.Combine(bed.Directory, "notify.sock"), Path.Combine(bed.Directory, h2 + ".env"));
        var d2 = TestDaemon.Start(bed, h2, prefix, ["--docker-opts-file", dockerOpts], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path });
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        output.WriteLine($"host 1: {string.Join(' ', env1.Select(kv => kv.Key + "=" + kv.Value))}");
        output.WriteLine($"host 2: {string.Join(' ', env2.Select(kv => kv.Key + "=" + kv.Value))}");
        Assert.Equal("10.50.0.0/16", env1["FLANNEL_NETWORK"]);
        Assert.Equal("1500", env1["FLANNEL_MTU"]); // host-gw: the interface MTU
        Assert.Equal("false", env1["FLANNEL_IPMASQ"]);
        Assert.NotEqual(env1["FLANNEL_SUBNET"], env2["FLANNEL_SUBNET"]);
        await Wait.UntilAsync(() => notify.Messages.Any(m => m.Message == "READY=1"), TimeSpan.FromSeconds(10), "READY=1 from host 2");
        Assert.True(notify.Messages.First(m => m.Message == "READY=1").FileExisted, "READY=1 arrived before subnet.env existed");
        Assert.Equal($"DOCKER_OPT_BIP=\"--bip={env2["FLANNEL_SUBNET"]}\"\nDOCKER_OPT_IPMASQ=\"--ip-masq=true\"\nDOCKER_OPT_MTU=\"--mtu=1500\"\n" +
            $"DOCKER_OPTS=\" --bip={env2["FLANNEL_SUBNET"]} --ip-masq=true --mtu=1500\"\n", File.ReadAllText(dockerOpts));

        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1500);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1500);
        string a1 = Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a2 = Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]);
        string net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);

        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("via 198.51.100.2 dev eth0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 1 has the route to host 2's subnet");
        await Wait.UntilAsync(() => Testbed.Ip(h2, "route", "show", TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"])).Contains("via 198.51.100.1 dev eth0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 2 has the route to host 1's subnet");
        Assert.True(Testbed.Ping(c1, a2), $"container 1 -> container 2 ({a2})\n{Testbed.Diagnose(h1, c1)}\n{Testbed.Diagnose(h2, c2)}\n{bed.LogOf(d1.Process)}");
        Assert.True(Testbed.Ping(c2, a1), $"container 2 -> container 1 ({a1})\n{bed.LogOf(d2.Process)}");

        // A route deleted by someone else comes back (netlink event or the 10 s check).
        Testbed.Ip(h1, "route", "del", net2);
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("via 198.51.100.2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "deleted route restored");

        // Restart host 1's daemon: clean exit on SIGTERM, the same subnet afterwards, routes kept meanwhile.
        Assert.Equal(0, await d1.StopAsync());
        Assert.Contains("via 198.51.100.2", Testbed.Ip(h1, "route", "show", net2), StringComparison.Ordinal);
        File.Delete(d1.SubnetFile);
        var d1b = TestDaemon.Start(bed, h1, prefix);
        var env1b = await d1b.WaitForSubnetEnvAsync(bed);
        Assert.Equal(env1["FLANNEL_SUBNET"], env1b["FLANNEL_SUBNET"]);
        Assert.True(Testbed.Ping(c1, a2), "ping after restart");

        // Host 2's daemon stops (its lease stays, as with flanneld), then an operator deletes the lease: the route
        // disappears on host 1. (A running daemon would take its deleted lease straight back.)
        Assert.Equal(0, await d2.StopAsync());
        Assert.Contains(notify.Messages, m => m.Message == "STOPPING=1");
        bed.Etcdctl(true, "del", $"{prefix}/subnets/{net2.Replace('/', '-')}");
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Trim().Length == 0, TimeSpan.FromSeconds(15), "route removed after lease deletion");

        Assert.Equal(0, await d1b.StopAsync());
    }
}
