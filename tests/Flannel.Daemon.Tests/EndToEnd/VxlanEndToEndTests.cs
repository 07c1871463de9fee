using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The vxlan backend with the published flanneld on simulated hosts against a real etcd: device, lease and per-peer
/// kernel entries exactly as flanneld programs them, traffic between three hosts, self-healing, a MAC that survives a
/// restart, cleanup of a removed peer, and DirectRouting. Needs root (CI runs as root): without it the tests fail.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed partial class VxlanEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_hosts_reach_each_other_over_vxlan_and_the_kernel_state_heals_and_follows_the_leases()
    {
        const string prefix = "/e2e-vxlan/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.70.0.0/16","Backend":{"Type":"vxlan"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2), h3 = bed.AddHost(3);
        // Host 3 has a leftover flannel.1 that does not match the config (another port): it must be recreated.
        Testbed.Ip(h3, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "dstport", "4789", "dev", "eth0", "local", "198.51.100.3");
        var d1 = TestDaemon.Start(bed, h1, prefix, ["--healthz-ip", "127.0.0.1", "--healthz-port", "10257"]);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var d3 = TestDaemon.Start(bed, h3, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        var env3 = await d3.WaitForSubnetEnvAsync(bed);
        string net1 = TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]), net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        string net3 = TestDaemon.NetworkOf(env3["FLANNEL_SUBNET"]);
        string zero2 = net2.Split('/')[0], zero3 = net3.Split('/')[0];

        // The device and the lease, as flanneld makes them (compat §7).
        Assert.Equal("1450", env1["FLANNEL_MTU"]);
        string link = Testbed.Ip(h1, "-d", "link", "show", "flannel.1");
        Assert.Contains("vxlan id 1 local 198.51.100.1 dev eth0", link, StringComparison.Ordinal);
        Assert.Contains("dstport 8472", link, StringComparison.Ordinal);
        Assert.Contains("nolearning", link, StringComparison.Ordinal);
        Assert.Contains("mtu 1450", link, StringComparison.Ordinal);
        Assert.Contains(net1.Split('/')[0] + "/32", Testbed.Ip(h1, "-br", "addr", "show", "flannel.1"), StringComparison.Ordinal);
        string mac1 = Mac(h1), mac2 = Mac(h2), mac3 = Mac(h3);
        Assert.Contains("dstport 8472", Testbed.Ip(h3, "-d", "link", "show", "flannel.1"), StringComparison.Ordinal);
        Assert.Contains("does not match the config", bed.LogOf(d3.Process), StringComparison.Ordinal);
        string lease1 = bed.Etcdctl(true, "get", "--print-value-only", $"{prefix}/subnets/{net1.Replace('/', '-')}").Stdout.Trim();
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":""" + $"\"{mac1}\"}}}}", lease1);

        // Per peer: neighbour, FDB entry and onlink route.
        await Wait.UntilAsync(() => HasPeerEntries(h1, net2, mac2, "198.51.100.2") && HasPeerEntries(h1, net3, mac3, "198.51.100.3"),
            TimeSpan.FromSeconds(15), "host 1 programmed both peers");
        Assert.Contains($"{net2} via {zero2} dev flannel.1 onlink", Testbed.Ip(h1, "route"), StringComparison.Ordinal);

        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1450);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1450);
        string c3 = bed.AddContainer(h3, env3["FLANNEL_SUBNET"], 1450);
        string a1 = Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a2 = Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]);
        string a3 = Testbed.ContainerAddress(env3["FLANNEL_SUBNET"]);
        Assert.True(Testbed.Ping(c1, a2), $"c1 -> c2\n{Testbed.Diagnose(h1, c1)}\n{bed.LogOf(d1.Process)}");
        Assert.True(Testbed.Ping(c2, a1), "c2 -> c1");
        Assert.True(Testbed.Ping(c1, a3), "c1 -> c3");
        Assert.True(Testbed.Ping(c3, a1), "c3 -> c1");
        Assert.True(Testbed.Ping(c2, a3), "c2 -> c3");
        Assert.True(Testbed.Ping(c3, a2), "c3 -> c2");

        // Someone deletes our FDB entry and neighbour: both come back (netlink event or the 10 s reconcile).
        Command.Run("bridge", "-n", h1, "fdb", "del", mac2, "dev", "flannel.1", "dst", "198.51.100.2", "self");
        Testbed.Ip(h1, "neigh", "del", zero2, "dev", "flannel.1");
        // (The netlink event usually brings them back before a check here could see them gone; the log proves it.)
        await Wait.UntilAsync(() => HasPeerEntries(h1, net2, mac2, "198.51.100.2") &&
                                    bed.LogOf(d1.Process).Contains("repaired", StringComparison.Ordinal),
            TimeSpan.FromSeconds(12), "deleted FDB and neighbour restored");
        await Wait.UntilAsync(() =>
            {
                string m = HealthHttp.Metrics(h1, 10257);
                return HealthHttp.Value(m, "flannel_reconcile_repairs_total", "backend=\"vxlan\",kind=\"fdb\"") >= 1 &&
                       HealthHttp.Value(m, "flannel_reconcile_repairs_total", "backend=\"vxlan\",kind=\"neighbour\"") >= 1 &&
                       HealthHttp.Value(m, "flannel_backend_peers", "backend=\"vxlan\"") == 2;
            },
            TimeSpan.FromSeconds(5), "vxlan repairs and peers in /metrics");
        // An FDB entry added by hand (bridge(8) stores it NUD_PERMANENT|NUD_NOARP) for no lease is removed by the reconcile.
        Command.Run("bridge", "-n", h1, "fdb", "add", "02:00:00:00:00:99", "dev", "flannel.1", "dst", "198.51.100.99", "self", "permanent");
        await Wait.UntilAsync(() => !Fdb(h1).Contains("02:00:00:00:00:99", StringComparison.Ordinal), TimeSpan.FromSeconds(15),
            "stale FDB entry removed");

        // Restart host 2's daemon: same subnet and the same VtepMAC (the device is reused), traffic flows.
        Assert.Equal(0, await d2.StopAsync());
        File.Delete(d2.SubnetFile);
        var d2b = TestDaemon.Start(bed, h2, prefix);
        var env2b = await d2b.WaitForSubnetEnvAsync(bed);
        Assert.Equal(env2["FLANNEL_SUBNET"], env2b["FLANNEL_SUBNET"]);
        Assert.Equal(mac2, Mac(h2));
        Assert.Contains("reusing flannel.1", bed.LogOf(d2b.Process), StringComparison.Ordinal);
        Assert.Single(Regex.Matches(Testbed.Ip(h2, "link"), @"flannel\.1"));
        Assert.True(Testbed.Ping(c1, a2), "c1 -> c2 after restart");

        // Host 3 leaves: once its lease is deleted, its three entries go from host 1.
        Assert.Equal(0, await d3.StopAsync());
        bed.Etcdctl(true, "del", $"{prefix}/subnets/{net3.Replace('/', '-')}");
        await Wait.UntilAsync(() => !Testbed.Ip(h1, "route").Contains(net3, StringComparison.Ordinal) &&
                                    !Testbed.Ip(h1, "neigh", "show", "dev", "flannel.1").Contains(zero3 + " ", StringComparison.Ordinal) &&
                                    !Fdb(h1).Contains(mac3, StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 3's route, neighbour and FDB entry removed on host 1");
        Assert.True(HasPeerEntries(h1, net2, mac2, "198.51.100.2"), "host 2's entries untouched");
        Assert.True(Testbed.Ping(c1, a2), "two hosts left: c1 -> c2");
        Assert.True(Testbed.Ping(c2, a1), "two hosts left: c2 -> c1");
        output.WriteLine(bed.LogOf(d1.Process));

        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2b.StopAsync());
    }

    [Fact]
    public async Task DirectRouting_routes_a_peer_on_the_same_L2_network_via_its_public_ip()
    {
        const string prefix = "/e2e-vxlan-direct/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.71.0.0/16","Backend":{"Type":"vxlan","DirectRouting":true}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("via 198.51.100.2 dev eth0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 1 routes host 2's subnet straight via its PublicIP");
        Assert.DoesNotContain("flannel.1", Testbed.Ip(h1, "route", "show", net2), StringComparison.Ordinal);
        Assert.Equal("", Testbed.Ip(h1, "neigh", "show", "dev", "flannel.1").Trim());
        Assert.Contains("DirectRouting for peer", bed.LogOf(d1.Process), StringComparison.Ordinal);

        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1450);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1450);
        Assert.True(Testbed.Ping(c1, Testbed.ContainerAddress(env2["FLANNEL_SUBNET"])), "c1 -> c2 (direct)");
        Assert.True(Testbed.Ping(c2, Testbed.ContainerAddress(env1["FLANNEL_SUBNET"])), "c2 -> c1 (direct)");

        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    private static string Mac(string hostNs) => Testbed.Exec(hostNs, ["cat", "/sys/class/net/flannel.1/address"]).Stdout.Trim();

    private static string Fdb(string hostNs) => Command.Run("bridge", "-n", hostNs, "fdb", "show", "dev", "flannel.1");

    private static bool HasPeerEntries(string hostNs, string net, string mac, string publicIp)
    {
        string zero = net.Split('/')[0];
        return Testbed.Ip(hostNs, "neigh", "show", "dev", "flannel.1").Contains($"{zero} lladdr {mac} PERMANENT", StringComparison.Ordinal) &&
               Fdb(hostNs).Contains($"{mac} dst {publicIp} self permanent", StringComparison.Ordinal) &&
               Testbed.Ip(hostNs, "route", "show", net).Contains($"via {zero} dev flannel.1 onlink", StringComparison.Ordinal);
    }
}
