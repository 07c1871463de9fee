using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// A three-member etcd cluster (three etcd processes on their own addresses in the switch namespace), flanneld given all
/// three endpoints; the leader is killed: the daemons stay up and a peer added during the failover is programmed.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class EtcdClusterEndToEndTests(ITestOutputHelper output)
{
    private static readonly string[] Members = ["198.51.100.251", "198.51.100.252", "198.51.100.253"];

    [Fact]
    public async Task Killing_the_etcd_leader_stops_neither_the_watch_nor_the_renewal()
    {
        await using var bed = await Testbed.CreateAsync();
        var members = StartCluster(bed);
        string endpoints = string.Join(',', Members.Select(m => $"http://{m}:2379"));
        var ctl = (string[] args) => Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoints, .. args]);
        await Wait.UntilAsync(() => Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoints, "endpoint", "health"],
            check: false).ExitCode == 0, TimeSpan.FromSeconds(30), "the three-member cluster is healthy");

        const string prefix = "/cluster/network";
        ctl(["put", prefix + "/config", """{"Network":"10.97.0.0/16","Backend":{"Type":"vxlan"}}"""]);
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        // Renewal margin 1439 min of the 24 h lease: host 1 renews one minute after it acquired, i.e. after the failover.
        var d1 = StartDaemon(bed, h1, prefix, endpoints, ["--subnet-lease-renew-margin", "1439"]);
        var d2 = StartDaemon(bed, h2, prefix, endpoints);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("flannel.1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 1 programmed host 2");

        // Kill the leader.
        var status = ctl(["endpoint", "status", "-w", "json"]).Stdout;
        int leader = LeaderIndex(status);
        output.WriteLine($"killing the etcd leader {Members[leader]}");
        Command.Run("kill", "-KILL", members[leader].Id.ToString(CultureInfo.InvariantCulture));
        await members[leader].WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // A peer added during the failover (written through the surviving members) reaches host 1.
        string survivors = string.Join(',', Members.Where((_, i) => i != leader).Select(m => $"http://{m}:2379"));
        await Wait.UntilAsync(() => Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", survivors,
                "--command-timeout", "3s", "put", $"{prefix}/subnets/10.97.250.0-24",
                """{"PublicIP":"198.51.100.77","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:00:77"}}"""],
            check: false).ExitCode == 0, TimeSpan.FromSeconds(30), "a put through the surviving members");
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", "10.97.250.0/24").Contains("flannel.1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the peer added during the failover is programmed on host 1");
        try
        {
            await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("Renewed lease", StringComparison.Ordinal), TimeSpan.FromSeconds(90),
                "host 1 renewed its lease through the surviving members");
        }
        finally
        {
            output.WriteLine(bed.LogOf(d1.Process));
        }
        Assert.False(d1.Process.HasExited || d2.Process.HasExited, "a daemon exited when the etcd leader died");
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    private static TestDaemon StartDaemon(Testbed bed, string hostNs, string prefix, string endpoints, string[]? extra = null)
    {
        string subnetFile = Path.Combine(bed.Directory, hostNs + ".env");
        var p = bed.Start(hostNs, FlanneldBinary.Path,
            ["--etcd-endpoints", endpoints, $"-etcd-prefix={prefix}", "--iface=eth0", "--subnet-file", subnetFile, .. extra ?? []], TestDaemon.WithoutSystemBus(bed), logName: hostNs + "-flanneld");
        return new TestDaemon(p, subnetFile);
    }

    private static Process[] StartCluster(Testbed bed)
    {
        string cluster = string.Join(',', Members.Select((m, i) => $"m{i}=http://{m}:2380"));
        var processes = new Process[Members.Length];
        for (int i = 0; i < Members.Length; i++)
        {
            Testbed.Ip(bed.SwitchNs, "addr", "add", Members[i] + "/24", "dev", "br0");
        }
        for (int i = 0; i < Members.Length; i++)
        {
            string m = Members[i];
            processes[i] = bed.Start(bed.SwitchNs, EtcdServer.Binary,
            [
                "--name", $"m{i}", "--data-dir", Path.Combine(bed.Directory, $"etcd-m{i}"),
                "--listen-client-urls", $"http://{m}:2379", "--advertise-client-urls", $"http://{m}:2379",
                "--listen-peer-urls", $"http://{m}:2380", "--initial-advertise-peer-urls", $"http://{m}:2380",
                "--initial-cluster", cluster, "--initial-cluster-state", "new", "--log-level", "warn", "--logger", "zap",
            ], logName: $"etcd-m{i}");
        }
        return processes;
    }

    private static int LeaderIndex(string statusJson)
    {
        using var doc = JsonDocument.Parse(statusJson);
        foreach (var (e, i) in doc.RootElement.EnumerateArray().Select((e, i) => (e, i)))
        {
            var s = e.GetProperty("Status");
            if (s.GetProperty("header").GetProperty("member_id").GetUInt64() == s.GetProperty("leader").GetUInt64())
            {
                string endpoint = e.GetProperty("Endpoint").GetString()!;
                return Array.FindIndex(Members, m => endpoint.Contains(m, StringComparison.Ordinal));
            }
        }
        throw new InvalidOperationException("no leader in " + statusJson);
    }
}
