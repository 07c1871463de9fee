using System.Globalization;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// What the published daemon says to an operator who got something wrong: an etcd it cannot reach (the endpoint and
/// the network's answer, not gRPC's "Error connecting to subchannel"), a stop while it still waits (one info line, no
/// error, no stack trace), and a config with typos (it runs as flanneld would and says which backend it chose and why).
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class OperatorMessagesEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Unreachable_etcd_names_endpoint_and_cause_and_SIGTERM_while_waiting_is_one_info_line()
    {
        await using var bed = await Testbed.CreateAsync();
        string h1 = bed.AddHost(1);
        // Port 1 of the switch refuses; 198.51.100.200 is on the host's link but nobody answers ARP for it.
        var cases = new[]
        {
            (Endpoint: $"http://{Testbed.EtcdAddress}:1", Cause: "connection refused (is etcd running, and listening on that address and port?)"),
            (Endpoint: "http://198.51.100.200:2379", Cause: "no route to host"),
        };
        var daemons = cases.Select((c, i) => bed.Start(h1, FlanneldBinary.Path,
            ["--etcd-endpoints", c.Endpoint, "--iface=eth0", "--subnet-file", Path.Combine(bed.Directory, $"unreach{i}.env")],
            TestDaemon.WithoutSystemBus(bed), logName: $"unreach{i}")).ToList();
        for (int i = 0; i < cases.Length; i++)
        {
            var p = daemons[i];
            string expected = $"WRN Cannot read network config from etcd: cannot reach etcd at {cases[i].Endpoint}: {cases[i].Cause}; retrying every second";
            await Wait.UntilAsync(() => bed.LogOf(p).Contains(expected, StringComparison.Ordinal) || p.HasExited, TimeSpan.FromSeconds(30),
                $"the unreachable etcd logged as: {expected}");
            Assert.False(p.HasExited, bed.LogOf(p));
        }
        foreach (var p in daemons)
        {
            Command.Run("kill", "-TERM", p.Id.ToString(CultureInfo.InvariantCulture));
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            string log = bed.LogOf(p);
            output.WriteLine(log);
            Assert.Equal(0, p.ExitCode);
            var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain(lines, l => l.Contains(" ERR ", StringComparison.Ordinal) || l.Contains(" CRT ", StringComparison.Ordinal) ||
                                             l.StartsWith("   at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
            Assert.Single(lines, l => l.EndsWith(
                " INF Stopped while starting (waiting for the network config at /coreos.com/network/config in etcd), as asked (SIGTERM or SIGINT)",
                StringComparison.Ordinal));
            Assert.Matches(@"\d\d:\d\d:\d\d\.\d{3} INF Stopped while starting", lines[^1]);
        }
    }

    [Fact]
    public async Task Typos_in_the_config_are_warned_and_the_start_line_says_why_the_backend_was_chosen()
    {
        await using var bed = await Testbed.CreateAsync();
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        const string typoPrefix = "/e2e-typo/network", optionPrefix = "/e2e-option/network";
        bed.Etcdctl(true, "put", typoPrefix + "/config", """{"Network":"10.61.0.0/16","Backen":{"Type":"vxlan"}}""");
        bed.Etcdctl(true, "put", optionPrefix + "/config", """{"Network":"10.62.0.0/16","Backend":{"Type":"vxlan","DirectRoutng":true,"Colour":"blue"}}""");
        var typo = TestDaemon.Start(bed, h1, typoPrefix);
        var option = TestDaemon.Start(bed, h2, optionPrefix);
        var env1 = await typo.WaitForSubnetEnvAsync(bed);
        await option.WaitForSubnetEnvAsync(bed);
        string log1 = bed.LogOf(typo.Process), log2 = bed.LogOf(option.Process);
        output.WriteLine(log1);
        output.WriteLine(log2);

        // flanneld's behaviour: the misspelt key is ignored, so the udp backend runs (flannel0's MTU is eth0's - 28).
        Assert.Equal("1472", env1["FLANNEL_MTU"]);
        Assert.Contains("WRN Network config: unknown key \"Backen\" in network config is ignored (did you mean \"Backend\"?)", log1, StringComparison.Ordinal);
        Assert.Contains("INF Network config: Network 10.61.0.0/16, backend udp (no \"Backend\" key (\"Backen\" looks like a misspelt \"Backend\" " +
                        "and is ignored): flanneld's default)", log1, StringComparison.Ordinal);

        Assert.Contains("INF Network config: Network 10.62.0.0/16, backend vxlan (Backend.Type \"vxlan\")", log2, StringComparison.Ordinal);
        Assert.Contains("WRN Network config: unknown key \"DirectRoutng\" in Backend (vxlan) is ignored (did you mean \"DirectRouting\"?)", log2, StringComparison.Ordinal);
        Assert.Contains("WRN Network config: unknown key \"Colour\" in Backend (vxlan) is ignored\n", log2, StringComparison.Ordinal);
        Assert.Equal(0, await typo.StopAsync());
        Assert.Equal(0, await option.StopAsync());
    }
}
