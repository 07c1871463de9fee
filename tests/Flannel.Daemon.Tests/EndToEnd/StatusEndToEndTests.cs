using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// <c>flanneld status</c> (the published binary) inside a testbed host against the testbed's etcd: the leases and the
/// peers the daemon programmed, then drift made by hand after the daemon is stopped with SIGTERM (the kernel state
/// stays and nothing repairs it, so the outcome is deterministic), as text and as JSON; and the exit status when etcd
/// cannot be reached or holds no config. Needs root (CI runs as root).
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class StatusEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Vxlan_status_shows_both_leases_then_names_a_deleted_route_a_deleted_fdb_entry_and_a_stale_fdb_entry()
    {
        const string prefix = "/e2e-status-vxlan/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.72.0.0/16","Backend":{"Type":"vxlan"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net1 = TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]), net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        string zero2 = net2.Split('/')[0];
        string mac2 = Testbed.Exec(h2, ["cat", "/sys/class/net/flannel.1/address"]).Stdout.Trim();
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("onlink", StringComparison.Ordinal) &&
                                    Fdb(h1).Contains(mac2, StringComparison.Ordinal) &&
                                    Testbed.Ip(h1, "neigh", "show", "dev", "flannel.1").Contains(mac2, StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 1 programmed host 2");

        var ok = Status(bed, h1, prefix, d1.SubnetFile);
        output.WriteLine(ok.Stdout);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("backend    {\"Type\":\"vxlan\"}", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("device     flannel.1 (present)", ok.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"{Esc(net1)}\s+198\.51\.100\.1\s+vxlan\s+2[34]h\d+m\d+s\s+this-host", ok.Stdout);
        Assert.Matches($@"{Esc(net2)}\s+198\.51\.100\.2\s+vxlan\s+2[34]h\d+m\d+s\s+yes", ok.Stdout);
        Assert.Contains("drift      none", ok.Stdout, StringComparison.Ordinal);
        using (var json = StatusJson(bed, h1, prefix, d1.SubnetFile, expectedExit: 0))
        {
            var leases = json.RootElement.GetProperty("leases").EnumerateArray().ToDictionary(l => l.GetProperty("subnet").GetString()!);
            Assert.Equal(2, leases.Count);
            Assert.Equal("this-host", leases[net1].GetProperty("programmed").GetString());
            Assert.True(leases[net1].GetProperty("own").GetBoolean());
            Assert.Equal("yes", leases[net2].GetProperty("programmed").GetString());
            Assert.Equal("198.51.100.2", leases[net2].GetProperty("publicIP").GetString());
            Assert.Equal("vxlan", leases[net2].GetProperty("backendType").GetString());
            Assert.InRange(leases[net2].GetProperty("expiresInSeconds").GetInt64(), 86_000, 86_400); // flannel's 24 h lease
            Assert.Empty(json.RootElement.GetProperty("drift").EnumerateArray());
            Assert.Equal(net1, json.RootElement.GetProperty("own").GetProperty("subnet").GetString());
        }

        // The daemon would repair what follows within 10 s; stopped, it leaves the kernel state as it is.
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, Status(bed, h1, prefix, d1.SubnetFile).ExitCode);

        Testbed.Ip(h1, "route", "del", net2);
        var noRoute = Status(bed, h1, prefix, d1.SubnetFile);
        output.WriteLine(noRoute.Stdout);
        Assert.True(noRoute.ExitCode == 1, noRoute.ToString());
        Assert.Contains($"  missing route {net2} via {zero2} dev flannel.1 onlink", noRoute.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"{Esc(net2)}\s+198\.51\.100\.2\s+vxlan\s+\S+\s+partly \(missing route\)", noRoute.Stdout);
        Assert.Contains("drift      1", noRoute.Stdout, StringComparison.Ordinal);

        Testbed.Ip(h1, "route", "add", net2, "via", zero2, "dev", "flannel.1", "onlink");
        Assert.Equal(0, Status(bed, h1, prefix, d1.SubnetFile).ExitCode);

        Command.Run("bridge", "-n", h1, "fdb", "del", mac2, "dev", "flannel.1", "dst", "198.51.100.2", "self");
        Command.Run("bridge", "-n", h1, "fdb", "add", "02:00:00:00:00:99", "dev", "flannel.1", "dst", "198.51.100.99", "self", "permanent");
        var fdb = Status(bed, h1, prefix, d1.SubnetFile);
        output.WriteLine(fdb.Stdout);
        Assert.True(fdb.ExitCode == 1, fdb.ToString());
        string[] expectedDrift =
        [
            $"missing fdb {mac2} dst 198.51.100.2 dev flannel.1",
            "stale fdb 02:00:00:00:00:99 dst 198.51.100.99 dev flannel.1",
        ];
        Assert.Equal(expectedDrift, fdb.Stdout.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()));
        using (var json = StatusJson(bed, h1, prefix, d1.SubnetFile, expectedExit: 1))
        {
            var drift = json.RootElement.GetProperty("drift").EnumerateArray().ToList();
            Assert.Equal(expectedDrift, drift.Select(d => d.GetProperty("text").GetString()));
            Assert.Equal(["missing", "stale"], drift.Select(d => d.GetProperty("kind").GetString()));
            Assert.Equal(["fdb", "fdb"], drift.Select(d => d.GetProperty("entry").GetString()));
            Assert.Equal("partly", json.RootElement.GetProperty("leases").EnumerateArray()
                .Single(l => l.GetProperty("subnet").GetString() == net2).GetProperty("programmed").GetString());
        }

        // Without the device, that is what is reported (its entries went with it).
        Testbed.Ip(h1, "link", "del", "flannel.1");
        var noDevice = Status(bed, h1, prefix, d1.SubnetFile);
        Assert.True(noDevice.ExitCode == 1, noDevice.ToString());
        Assert.Contains("  missing device flannel.1 (vxlan)", noDevice.Stdout, StringComparison.Ordinal);
        Assert.Contains("device     flannel.1 (MISSING)", noDevice.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, await d2.StopAsync());
    }

    [Fact]
    public async Task Host_gw_status_shows_the_peer_route_then_a_deleted_and_a_stale_route()
    {
        const string prefix = "/e2e-status-hostgw/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.73.0.0/16","Backend":{"Type":"host-gw"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net1 = TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]), net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        await Wait.UntilAsync(() => Testbed.Ip(h1, "route", "show", net2).Contains("via 198.51.100.2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "host 1 routes host 2's subnet");

        var ok = Status(bed, h1, prefix, d1.SubnetFile);
        output.WriteLine(ok.Stdout);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Matches($@"{Esc(net1)}\s+198\.51\.100\.1\s+host-gw\s+\S+\s+this-host", ok.Stdout);
        Assert.Matches($@"{Esc(net2)}\s+198\.51\.100\.2\s+host-gw\s+\S+\s+yes", ok.Stdout);

        Assert.Equal(0, await d1.StopAsync());
        Testbed.Ip(h1, "route", "del", net2);
        Testbed.Ip(h1, "route", "add", "10.73.250.0/24", "via", "198.51.100.2");
        var drift = Status(bed, h1, prefix, d1.SubnetFile);
        output.WriteLine(drift.Stdout);
        Assert.True(drift.ExitCode == 1, drift.ToString());
        Assert.Contains($"  missing route {net2} via 198.51.100.2", drift.Stdout, StringComparison.Ordinal);
        Assert.Contains("  stale route 10.73.250.0/24 via 198.51.100.2 dev eth0", drift.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"{Esc(net2)}\s+198\.51\.100\.2\s+host-gw\s+\S+\s+no \(missing route\)", drift.Stdout);

        Assert.Equal(0, await d2.StopAsync());
    }

    [Fact]
    public async Task Etcd_unreachable_or_without_config_exits_3_quickly_with_a_clear_message()
    {
        await using var bed = await Testbed.CreateAsync();
        string h1 = bed.AddHost(1);

        // Nobody at that address: the connection attempt hangs until the timeout.
        var silent = Timed(() => Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", "http://198.51.100.200:2379"], check: false), out var silentTime);
        Assert.True(silent.ExitCode == 3, silent.ToString());
        Assert.Contains("etcd at http://198.51.100.200:2379", silent.Stderr, StringComparison.Ordinal);
        Assert.True(silentTime < TimeSpan.FromSeconds(10), $"took {silentTime}");
        Assert.Equal("", silent.Stdout);

        // A host that refuses the connection.
        var refused = Timed(() => Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", $"http://{Testbed.EtcdAddress}:2999"], check: false), out var refusedTime);
        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains($"etcd at http://{Testbed.EtcdAddress}:2999", refused.Stderr, StringComparison.Ordinal);
        Assert.True(refusedTime < TimeSpan.FromSeconds(10), $"took {refusedTime}");

        // etcd answers but holds no config under the prefix.
        var noConfig = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", bed.EtcdEndpoint, "--etcd-prefix=/nothing/here"], check: false);
        Assert.True(noConfig.ExitCode == 3, noConfig.ToString());
        Assert.Contains("no network config in etcd at /nothing/here/config", noConfig.Stderr, StringComparison.Ordinal);

        bed.Etcdctl(true, "put", "/bad/network/config", """{"Network":"10.74.0.0/16","Backend":{"Type":"vxlan","VNI":"one"}}""");
        var bad = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", bed.EtcdEndpoint, "--etcd-prefix=/bad/network"], check: false);
        Assert.True(bad.ExitCode == 3, bad.ToString());
        Assert.Contains("invalid network config at /bad/network/config", bad.Stderr, StringComparison.Ordinal);

        var noCert = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", "https://198.51.100.254:2379",
            "--etcd-certfile", "/nonexistent/cert.pem", "--etcd-keyfile", "/nonexistent/key.pem"], check: false);
        Assert.True(noCert.ExitCode == 3, noCert.ToString());
        Assert.Contains("/nonexistent/cert.pem", noCert.Stderr, StringComparison.Ordinal);

        var badFlag = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--no-such-flag"], check: false);
        Assert.Equal(2, badFlag.ExitCode);
        var help = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--help"], check: false);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("exit status: 0 no drift, 1 drift found, 2 bad flags, 3 etcd unreachable or config missing/invalid", help.Stderr, StringComparison.Ordinal);
    }

    private static CommandResult Status(Testbed bed, string hostNs, string prefix, string subnetFile, params string[] extra) =>
        Testbed.Exec(hostNs, [FlanneldBinary.Path, "status", "--etcd-endpoints", bed.EtcdEndpoint, $"-etcd-prefix={prefix}", "--subnet-file", subnetFile, .. extra],
            check: false);

    private static JsonDocument StatusJson(Testbed bed, string hostNs, string prefix, string subnetFile, int expectedExit)
    {
        var r = Status(bed, hostNs, prefix, subnetFile, "--json");
        Assert.True(r.ExitCode == expectedExit, r.ToString());
        return JsonDocument.Parse(r.Stdout);
    }

    private static CommandResult Timed(Func<CommandResult> run, out TimeSpan elapsed)
    {
        var sw = Stopwatch.StartNew();
        var r = run();
        elapsed = sw.Elapsed;
        return r;
    }

    private static string Fdb(string hostNs) => Command.Run("bridge", "-n", hostNs, "fdb", "show", "dev", "flannel.1");

    private static string Esc(string s) => System.Text.RegularExpressions.Regex.Escape(s);
}
