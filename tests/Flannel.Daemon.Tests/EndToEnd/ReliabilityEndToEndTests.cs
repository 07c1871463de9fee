using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Faults with containers pinging across two hosts ten times a second: the daemon SIGKILLed and restarted, and our
/// lease deleted or its etcd lease revoked. Real etcd, published flanneld, namespaces; root.
/// </summary>
[Collection(TimingSensitiveTests.Name)]
[NeedsRoot, NeedsEtcd]
public sealed class ReliabilityEndToEndTests(ITestOutputHelper output)
{
    private static async Task<TwoHosts> TwoHostsAsync(Testbed bed, string backend, string network)
    {
        var p = await TwoHosts.StartAsync(bed, $"/rel-{backend}/network", backend, network);
        Assert.True(Testbed.Ping(p.C1, p.A2), $"c1 -> c2 before the fault\n{bed.LogOf(p.D1.Process)}");
        Assert.True(Testbed.Ping(p.C2, p.A1), "c2 -> c1 before the fault");
        return p;
    }

    [Theory]
    [InlineData("vxlan", "10.90.0.0/16")]
    [InlineData("host-gw", "10.91.0.0/16")]
    [InlineData("udp", "10.92.0.0/16")]
    public async Task A_daemon_killed_and_restarted_keeps_its_subnet_loses_no_packets_and_leaves_no_duplicates(string backend, string network)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await TwoHostsAsync(bed, backend, network);
        var monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(6));
        await Task.Delay(1000);

        Command.Run("kill", "-KILL", p.D1.Process.Id.ToString(CultureInfo.InvariantCulture));
        await p.D1.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        File.Delete(p.D1.SubnetFile);
        var restarted = TestDaemon.Start(bed, p.H1, p.Prefix);
        var env = await restarted.WaitForSubnetEnvAsync(bed);
        Assert.Equal(p.Env1["FLANNEL_SUBNET"], env["FLANNEL_SUBNET"]);

        var (sent, received) = await monitor.ResultAsync();
        int lost = sent - received;
        output.WriteLine($"{backend}: SIGKILL + restart: {sent} echoes, {lost} lost ({lost * 100} ms of traffic)");
        output.WriteLine("restarted daemon:\n" + bed.LogOf(restarted.Process));
        if (backend == "udp")
        {
            // The TUN device dies with the process (as flanneld's); the gap is the restart.
            Assert.True(lost * 100 < 1000, $"udp gap {lost * 100} ms, expected under 1 s");
        }
        else
        {
            Assert.Equal(0, lost); // kernel state stays while the daemon is down
        }

        // No duplicate devices, routes or rules after the restart.
        string net2 = TestDaemon.NetworkOf(p.Env2["FLANNEL_SUBNET"]);
        await Wait.UntilAsync(() => Regex.Count(Testbed.Ip(p.H1, "route", "show", net2), "via") == 1 || backend == "udp",
            TimeSpan.FromSeconds(10), "one route to the peer");
        int devices = Regex.Count(Testbed.Ip(p.H1, "-o", "link", "show"), @"flannel[.0-9]");
        Assert.Equal(backend == "host-gw" ? 0 : 1, devices);
        string forward = Testbed.Exec(p.H1, ["iptables", "-S", "FORWARD"]).Stdout;
        Assert.Single(Regex.Matches(forward, "FLANNEL-FWD"));
        Assert.True(Testbed.Ping(p.C2, p.A1), "c2 -> c1 after the restart");
        Assert.Equal(0, await restarted.StopAsync());
        Assert.Equal(0, await p.D2.StopAsync());
    }

    [Fact]
    public async Task A_lease_deleted_or_revoked_in_etcd_is_taken_back_with_the_same_subnet()
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await TwoHostsAsync(bed, "vxlan", "10.93.0.0/16");
        string net1 = TestDaemon.NetworkOf(p.Env1["FLANNEL_SUBNET"]);
        string key = $"{p.Prefix}/subnets/{net1.Replace('/', '-')}";
        string value = Value(bed, key);

        // An operator deletes our key.
        bed.Etcdctl(true, "del", key);
        await Wait.UntilAsync(() => Value(bed, key) == value, TimeSpan.FromSeconds(10), "host 1 took its subnet back");

        // Our etcd lease is revoked (what expiry does): the key goes with it.
        long leaseId = LeaseIdOf(bed, key);
        Assert.NotEqual(0, leaseId);
        bed.Etcdctl(true, "lease", "revoke", leaseId.ToString("x", CultureInfo.InvariantCulture));
        await Wait.UntilAsync(() => Value(bed, key) == value && LeaseIdOf(bed, key) != leaseId, TimeSpan.FromSeconds(10),
            "host 1 took its subnet back under a new etcd lease");

        // Peers see it return; the containers keep their addresses and reach each other.
        await Wait.UntilAsync(() => Testbed.Ip(p.H2, "route", "show", net1).Contains("flannel.1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "host 2 routes to host 1 again");
        Assert.True(Testbed.Ping(p.C2, p.A1), "c2 -> c1 after the lease came back");
        Assert.True(Testbed.Ping(p.C1, p.A2), "c1 -> c2 after the lease came back");
        Assert.Equal(p.Env1["FLANNEL_SUBNET"], File.ReadAllLines(p.D1.SubnetFile).First(l => l.StartsWith("FLANNEL_SUBNET=", StringComparison.Ordinal))["FLANNEL_SUBNET=".Length..]);
        output.WriteLine(bed.LogOf(p.D1.Process));
        Assert.Equal(0, await p.D1.StopAsync());
        Assert.Equal(0, await p.D2.StopAsync());
    }

    private static string Value(Testbed bed, string key) => bed.Etcdctl(true, "get", "--print-value-only", key).Stdout.Trim();

    private static long LeaseIdOf(Testbed bed, string key)
    {
        using var doc = JsonDocument.Parse(bed.Etcdctl(true, "get", key, "-w", "json").Stdout);
        return doc.RootElement.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() == 1 &&
               kvs[0].TryGetProperty("lease", out var lease) ? lease.GetInt64() : 0;
    }
}

/// <summary>
/// Tests whose figure is a time (the udp restart gap must stay under 1 s) run alone, after the parallel ones: on the
/// 2-core CI machine a parallel test starting dockerd stretched the gap to 1 s although the daemon alone needs ~100 ms.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveTests
{
    public const string Name = "timing-sensitive";
}
