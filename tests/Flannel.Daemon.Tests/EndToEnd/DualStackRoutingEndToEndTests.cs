using Flannel.Subnet.Ip;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Three dual-stack hosts (198.51.100.N and 2001:db8:100::N on each eth0) run the daemon with EnableIPv6, vxlan or
/// host-gw: every container pings every other over IPv4 and IPv6; the kernel holds flanneld's entries for both
/// families (vxlan: flannel-v6.VNI with its own VtepMAC in BackendV6Data, its /128, the v6 neighbour, FDB entry and
/// onlink route per peer; host-gw: a route via each peer's PublicIPv6); a deleted IPv6 route and a deleted
/// flannel-v6 device come back; --ip-masq writes flanneld's rules to iptables and ip6tables; a restart keeps both
/// subnets and both VtepMACs.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class DualStackRoutingEndToEndTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("vxlan")]
    [InlineData("host-gw")]
    public async Task Containers_on_three_dual_stack_hosts_ping_each_other_over_IPv4_and_IPv6(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        string prefix = $"/e2e-ds-{backend}/network";
        bed.Etcdctl(true, "put", prefix + "/config",
            $$$"""{"Network":"10.53.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:53::/48","Backend":{"Type":"{{{backend}}}"}}""");
        var hosts = new List<string>();
        var daemons = new List<TestDaemon>();
        for (int n = 1; n <= 3; n++)
        {
            string h = bed.AddHost(n);
            Testbed.AddHostIpv6(h, n);
            hosts.Add(h);
            daemons.Add(TestDaemon.Start(bed, h, prefix, ["--ip-masq"]));
        }
        var envs = new List<Dictionary<string, string>>();
        foreach (var d in daemons)
        {
            envs.Add(await d.WaitForSubnetEnvAsync(bed));
        }
        var v4 = new List<string>();
        var v6 = new List<string>();
        var containers = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            output.WriteLine($"host {i + 1}: {string.Join(' ', envs[i].Select(kv => kv.Key + "=" + kv.Value))}");
            int mtu = int.Parse(envs[i]["FLANNEL_MTU"], System.Globalization.CultureInfo.InvariantCulture);
            string c = bed.AddContainer(hosts[i], envs[i]["FLANNEL_SUBNET"], mtu);
            containers.Add(c);
            v4.Add(Testbed.ContainerAddress(envs[i]["FLANNEL_SUBNET"]));
            v6.Add(Testbed.AddContainerIpv6(hosts[i], c, envs[i]["FLANNEL_IPV6_SUBNET"]));
        }
        string Net6(int i) => Ip6Network.ParseCidr(envs[i]["FLANNEL_IPV6_SUBNET"]).Network.ToString();

        // Every host has an IPv6 route to each other host's IPv6 subnet.
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                if (i == j)
                {
                    continue;
                }
                string expected = backend == "vxlan"
                    ? $"via {Ip6Network.ParseCidr(Net6(j)).Ip} dev flannel-v6.1"
                    : $"via 2001:db8:100::{j + 1} dev eth0";
                int a = i, b = j;
                await Wait.UntilAsync(() => Testbed.Ip(hosts[a], "-6", "route", "show", Net6(b)).Contains(expected, StringComparison.Ordinal),
                    TimeSpan.FromSeconds(15), $"host {a + 1} routes {Net6(b)} {expected}\n{Testbed.Ip(hosts[a], "-6", "route")}\n{bed.LogOf(daemons[a].Process)}");
            }
        }
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                if (i != j)
                {
                    Assert.True(Testbed.Ping(containers[i], v4[j], 2), $"container {i + 1} -> {v4[j]}\n{Testbed.Diagnose(hosts[i], containers[i])}");
                    Assert.True(Testbed.Ping(containers[i], v6[j], 2),
                        $"container {i + 1} -> {v6[j]}\n{Testbed.Ip(hosts[i], "-6", "route")}{Testbed.Ip(hosts[i], "-6", "neigh")}\n{bed.LogOf(daemons[i].Process)}");
                }
            }
        }

        // --ip-masq: flanneld's masquerade and forward rules for each family, IPv6's in ip6tables.
        string nat6 = Command.Run("ip", "netns", "exec", hosts[0], "ip6tables", "-t", "nat", "-S");
        Assert.Contains("-A FLANNEL-POSTRTG -s 2001:db8:53::/48 ! -d ff00::/8 -m comment --comment \"flanneld masq\" -j MASQUERADE", nat6, StringComparison.Ordinal);
        Assert.Contains($"-A FLANNEL-POSTRTG -s {Net6(0)} -d 2001:db8:53::/48", nat6, StringComparison.Ordinal);
        Assert.Contains("-A FLANNEL-FWD -d 2001:db8:53::/48 -m comment --comment \"flanneld forward\" -j ACCEPT",
            Command.Run("ip", "netns", "exec", hosts[0], "ip6tables", "-S"), StringComparison.Ordinal);
        Assert.Contains("-A FLANNEL-POSTRTG -s 10.53.0.0/16 ! -d 224.0.0.0/4",
            Command.Run("ip", "netns", "exec", hosts[0], "iptables", "-t", "nat", "-S"), StringComparison.Ordinal);

        string key1 = $"{prefix}/subnets/{TestDaemon.NetworkOf(envs[0]["FLANNEL_SUBNET"]).Replace('/', '-')}&{Net6(0).Replace('/', '-')}";
        string value1 = bed.Etcdctl(true, "get", "--print-value-only", key1).Stdout.Trim();
        output.WriteLine(value1);
        if (backend == "vxlan")
        {
            // flanneld's lease value: the v6 device's own VtepMAC in BackendV6Data.
            string mac4 = Mac(hosts[0], "flannel.1"), mac6 = Mac(hosts[0], "flannel-v6.1");
            Assert.NotEqual(mac4, mac6);
            Assert.Equal($$$"""{"PublicIP":"198.51.100.1","PublicIPv6":"2001:db8:100::1","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac4}}}"},"BackendV6Data":{"VNI":1,"VtepMAC":"{{{mac6}}}"}}""",
                value1);
            Assert.Contains($"{Ip6Network.ParseCidr(Net6(0)).Ip}/128", Testbed.Ip(hosts[0], "-6", "addr", "show", "dev", "flannel-v6.1"), StringComparison.Ordinal);
            Assert.Contains($"{Ip6Network.ParseCidr(Net6(1)).Ip} lladdr {Mac(hosts[1], "flannel-v6.1")} PERMANENT",
                Testbed.Ip(hosts[0], "-6", "neigh", "show", "dev", "flannel-v6.1"), StringComparison.Ordinal);
            Assert.Contains($"{Mac(hosts[1], "flannel-v6.1")} dst 2001:db8:100::2 self permanent",
                Command.Run("ip", "netns", "exec", hosts[0], "bridge", "fdb", "show", "dev", "flannel-v6.1"), StringComparison.Ordinal);

            // A deleted flannel-v6 device comes back with the same MAC, and traffic with it.
            Testbed.Ip(hosts[0], "link", "del", "flannel-v6.1");
            await Wait.UntilAsync(() => Testbed.Ip(hosts[0], "-6", "route", "show", Net6(1)).Contains("dev flannel-v6.1", StringComparison.Ordinal),
                TimeSpan.FromSeconds(15), "flannel-v6.1 and its routes back");
            Assert.Equal(mac6, Mac(hosts[0], "flannel-v6.1"));
            Assert.True(Testbed.Ping(containers[0], v6[1], 2), $"IPv6 ping after flannel-v6.1 came back\n{bed.LogOf(daemons[0].Process)}");
        }
        else
        {
            Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":"2001:db8:100::1","BackendType":"host-gw"}""", value1);
        }

        // An IPv6 route deleted by someone else comes back.
        Testbed.Ip(hosts[0], "-6", "route", "del", Net6(2));
        await Wait.UntilAsync(() => Testbed.Ip(hosts[0], "-6", "route", "show", Net6(2)).Contains("via", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "deleted IPv6 route restored");
        Assert.True(Testbed.Ping(containers[0], v6[2], 2), "IPv6 ping after the route came back");

        // A restart keeps both subnets and (vxlan) both VtepMACs: the lease value is the same.
        Assert.Equal(0, await daemons[0].StopAsync());
        daemons[0] = TestDaemon.Start(bed, hosts[0], prefix, ["--ip-masq"]);
        var again = await daemons[0].WaitForSubnetEnvAsync(bed);
        Assert.Equal((envs[0]["FLANNEL_SUBNET"], envs[0]["FLANNEL_IPV6_SUBNET"]), (again["FLANNEL_SUBNET"], again["FLANNEL_IPV6_SUBNET"]));
        await Wait.UntilAsync(() => bed.LogOf(daemons[0].Process).Contains("Ready: subnet", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "restarted daemon ready");
        Assert.Equal(value1, bed.Etcdctl(true, "get", "--print-value-only", key1).Stdout.Trim());
        Assert.True(Testbed.Ping(containers[1], v6[0], 2), "IPv6 ping to the restarted host");

        foreach (var d in daemons)
        {
            Assert.Equal(0, await d.StopAsync());
        }
    }

    private static string Mac(string ns, string device) =>
        Testbed.Ip(ns, "-br", "link", "show", "dev", device).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
}
