using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// A udp peer whose <c>--public-ip</c> is not its interface address, as flanneld (and this daemon) run it: host 2
/// publishes 198.51.100.102 while its socket is bound to, and sends from, 198.51.100.2. 198.51.100.102 reaches that
/// socket through a one-way (stateless) address rewrite in host 2, the way a 1:1 NAT in front of a host delivers its
/// public address while the host's replies go out directly; a stateful DNAT would rewrite the replies too and hide
/// the problem. With the default source check host 1 drops everything host 2 sends and says why; with
/// <c>--udp-source-check=subnet</c> the containers talk both ways. Published flanneld, real etcd, namespaces; root.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class UdpPublicIpEndToEndTests(ITestOutputHelper output)
{
    private const string Interface2 = "198.51.100.2";
    private const string Public2 = "198.51.100.102";

    private sealed record Hosts(TestDaemon D1, TestDaemon D2, string C1, string C2, string A1, string A2, string Net2);

    private static async Task<Hosts> StartAsync(Testbed bed, string prefix, string network, string[] host1Args)
    {
        bed.Etcdctl(true, "put", prefix + "/config", "{\"Network\":\"" + network + "\",\"Backend\":{\"Type\":\"udp\"}}");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        Testbed.Ip(h2, "addr", "add", Public2 + "/24", "dev", "eth0"); // a secondary address: it answers ARP
        var nft = Command.TryRun("ip", "netns", "exec", h2, "nft",
            $"add table ip e2e-nat; add chain ip e2e-nat pre {{ type filter hook prerouting priority -300; }}; " +
            $"add rule ip e2e-nat pre ip daddr {Public2} udp dport 8285 ip daddr set {Interface2} notrack");
        Assert.True(nft.ExitCode == 0, "nft stateless rewrite in host 2: " + nft.Stderr);

        var d1 = TestDaemon.Start(bed, h1, prefix, host1Args);
        var d2 = TestDaemon.Start(bed, h2, prefix, ["--public-ip", Public2]);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        // Host 2 binds to its interface address and publishes the other one: the situation under test.
        Assert.Contains($"\"PublicIP\":\"{Public2}\"",
            bed.Etcdctl(true, "get", "--print-value-only", $"{prefix}/subnets/{net2.Replace('/', '-')}").Stdout, StringComparison.Ordinal);
        Assert.Contains(Interface2 + ":8285", Testbed.Exec(h2, ["ss", "-uln"]).Stdout, StringComparison.Ordinal);

        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1472), c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1472);
        return new Hosts(d1, d2, c1, c2, Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]), net2);
    }

    [Fact]
    public async Task Default_check_drops_the_peers_traffic_and_the_log_names_the_cause_and_the_option()
    {
        await using var bed = await Testbed.CreateAsync();
        var h = await StartAsync(bed, "/e2e-udp-publicip-strict/network", "10.62.0.0/16", []);

        // Host 1 -> host 2 works (its datagrams come from its PublicIP), so the NAT stand-in is right ...
        Assert.True(await UdpArrivesAsync(h.C1, h.C2, h.A2, TimeSpan.FromSeconds(20)),
            $"c1 -> c2 one way\n{bed.LogOf(h.D1.Process)}\n{bed.LogOf(h.D2.Process)}");
        // ... and host 2 -> host 1 is dropped: it comes from 198.51.100.2, which no lease names.
        Assert.False(await UdpArrivesAsync(h.C2, h.C1, h.A1, TimeSpan.FromSeconds(5)), "c2 -> c1 must be dropped by the strict check");
        Assert.False(Testbed.Ping(h.C1, h.A2, count: 1), "the echo replies come back through host 2 and are dropped");

        string hint = "";
        await Wait.UntilAsync(() =>
        {
            hint = bed.LogOf(h.D1.Process).Split('\n').LastOrDefault(l => l.Contains("dropped as unknown-peer", StringComparison.Ordinal)) ?? "";
            return hint.Length > 0;
        }, TimeSpan.FromSeconds(25), "host 1 explains its unknown-peer drops (every 10 s at most)");
        output.WriteLine(hint);
        Assert.Contains($"the last came from {Interface2} with inner source {h.A2}", hint, StringComparison.Ordinal);
        Assert.Contains($"inside {h.Net2}, the subnet of the peer whose lease says PublicIP {Public2}", hint, StringComparison.Ordinal);
        Assert.Contains("probably runs with --public-ip different from its interface address", hint, StringComparison.Ordinal);
        Assert.Contains("--udp-source-check=subnet (FLANNELD_UDP_SOURCE_CHECK)", hint, StringComparison.Ordinal);
        Assert.Contains("unknown-peer", bed.LogOf(h.D1.Process).Split('\n').Last(l => l.Contains("dropped since start", StringComparison.Ordinal)),
            StringComparison.Ordinal);

        Assert.Equal(0, await h.D1.StopAsync());
        Assert.Equal(0, await h.D2.StopAsync());
    }

    [Fact]
    public async Task Subnet_check_lets_the_containers_talk_both_ways()
    {
        await using var bed = await Testbed.CreateAsync();
        var h = await StartAsync(bed, "/e2e-udp-publicip-subnet/network", "10.63.0.0/16", ["--udp-source-check=subnet"]);

        Assert.True(Testbed.Ping(h.C1, h.A2), $"c1 -> c2 ({h.A2})\n{bed.LogOf(h.D1.Process)}\n{bed.LogOf(h.D2.Process)}");
        Assert.True(Testbed.Ping(h.C2, h.A1), $"c2 -> c1 ({h.A1})\n{bed.LogOf(h.D1.Process)}");
        Assert.True(await UdpArrivesAsync(h.C2, h.C1, h.A1, TimeSpan.FromSeconds(10)), "c2 -> c1 UDP");

        Assert.Equal(0, await h.D1.StopAsync());
        Assert.Equal(0, await h.D2.StopAsync());
        Assert.DoesNotContain("dropped as unknown-peer", bed.LogOf(h.D1.Process), StringComparison.Ordinal);
    }

    /// <summary>
    /// Sends a UDP datagram from <paramref name="from"/> to <paramref name="address"/> in <paramref name="to"/> every
    /// 200 ms (the peer may not be programmed yet) until one arrives or <paramref name="timeout"/> passes.
    /// </summary>
    private static async Task<bool> UdpArrivesAsync(string from, string to, string address, TimeSpan timeout)
    {
        using var receiver = NetNs.RunIn(to, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(address), 7777));
            return s;
        });
        using var sender = NetNs.RunIn(from, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var target = new IPEndPoint(IPAddress.Parse(address), 7777);
        var buffer = new byte[64];
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            sender.SendTo(Encoding.ASCII.GetBytes("public-ip"), target);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                int n = await receiver.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                if (Encoding.ASCII.GetString(buffer, 0, n) == "public-ip")
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        return false;
    }
}
