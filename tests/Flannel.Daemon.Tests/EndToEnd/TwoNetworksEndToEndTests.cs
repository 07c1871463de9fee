using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// flannel's functional test "multi" on our daemon: two hosts, each with two published daemons for two networks (a
/// vxlan one and a host-gw one, different --etcd-prefix and --subnet-file, --ip-masq, --iptables-resync 1) and the
/// rules flanneld v0.28.9 would have written for a third network, put in by hand (no flanneld binary here). Containers
/// of both networks ping across the hosts; over several resyncs every host holds exactly the three networks' rules in
/// v0.28.9's layout, each once, and no daemon says someone changed its rules; a rule of one daemon deleted by hand
/// comes back, and only that daemon repairs. Both rule modes: iptables, and nftables (<c>"EnableNFTables": true</c>).
/// Real etcd, namespaces; root.
/// </summary>
[Collection(TimingSensitiveTests.Name)]
[NeedsRoot, NeedsEtcd]
public sealed class TwoNetworksEndToEndTests(ITestOutputHelper output)
{
    private const string VxlanNetwork = "10.70.0.0/16", HostGwNetwork = "10.71.0.0/16", FlanneldNetwork = "10.72.0.0/16";
    private const string Changed = "changed by someone else";

    // flanneld v0.28.9's rules for network n and subnet s (pkg/trafficmngr/iptables masqRules and forwardRules, with
    // --random-fully), as iptables-save prints them. Written out here from flanneld's source, not from our code.
    private static IEnumerable<string> FlanneldIptables(string n, string s) =>
    [
        "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
        "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {s} -d {n} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {n} -d {s} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG ! -s {n} -d {s} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {n} ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
        $"-A FLANNEL-POSTRTG ! -s {n} -d {n} -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
        "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
        $"-A FLANNEL-FWD -s {n} -m comment --comment \"flanneld forward\" -j ACCEPT",
        $"-A FLANNEL-FWD -d {n} -m comment --comment \"flanneld forward\" -j ACCEPT",
    ];

    // The same for nftables (pkg/trafficmngr/nftables addMasqRules and SetupAndEnsureForwardRules), "chain: rule" as
    // `nft list` prints them.
    private static IEnumerable<string> FlanneldNft(string n, string s) =>
    [
        "postrtg: meta mark 0x00004000 return",
        $"postrtg: ip saddr {s} ip daddr {n} return",
        $"postrtg: ip saddr {n} ip daddr {s} return",
        $"postrtg: ip saddr != {s} ip daddr {n} return",
        $"postrtg: ip saddr {n} ip daddr != 224.0.0.0/4 masquerade fully-random",
        $"postrtg: ip saddr != {n} ip daddr {n} masquerade fully-random",
        $"forward: ip saddr {n} accept",
        $"forward: ip daddr {n} accept",
    ];

    /// <summary>What flanneld v0.28.9 would do at start for the third network, by hand.</summary>
    private static void FlanneldStarts(string host, bool nftables, string subnet)
    {
        if (nftables)
        {
            var script = new List<string>
            {
                "add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }",
                "add table ip6 flannel-ipv6 { comment \"rules for flannel-ipv6\" ; }",
                "add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; comment \"chain to manage traffic masquerading by flannel\" ; }",
                "flush chain ip flannel-ipv4 postrtg",
                "add chain ip flannel-ipv4 forward { type filter hook forward priority filter ; comment \"chain to accept flannel traffic\" ; }",
                "flush chain ip flannel-ipv4 forward",
            };
            script.AddRange(FlanneldNft(FlanneldNetwork, subnet).Select(r => $"add rule ip flannel-ipv4 {r.Replace(": ", " ", StringComparison.Ordinal)}"));
            NftScript(host, script);
            return;
        }
        Testbed.Exec(host, ["iptables", "-t", "nat", "-N", "FLANNEL-POSTRTG"]);
        Testbed.Exec(host, ["iptables", "-t", "filter", "-N", "FLANNEL-FWD"]);
        foreach (var rule in FlanneldIptables(FlanneldNetwork, subnet))
        {
            string table = rule.Contains("FLANNEL-FWD", StringComparison.Ordinal) ? "filter" : "nat";
            Testbed.Exec(host, ["sh", "-c", $"iptables -t {table} {rule}"]);
        }
    }

    private static void NftScript(string host, IEnumerable<string> lines)
    {
        string file = Path.Combine(Path.GetTempPath(), $"flannel-e2e-{Guid.NewGuid():N}.nft");
        File.WriteAllLines(file, lines);
        try
        {
            Testbed.Exec(host, ["nft", "-f", file]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Every rule of the flannel chains (and the jumps to them), sorted, in the format the oracles use.</summary>
    private static List<string> RulesOn(string host, bool nftables)
    {
        var rules = new List<string>();
        if (nftables)
        {
            string chain = "";
            foreach (var raw in Testbed.Exec(host, ["nft", "list", "table", "ip", "flannel-ipv4"], check: false).Stdout.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith("chain ", StringComparison.Ordinal))
                {
                    chain = line.Split(' ')[1];
                }
                else if (chain.Length > 0 && line.Length > 0 && line != "}" && !line.StartsWith("type ", StringComparison.Ordinal)
                         && !line.StartsWith("comment ", StringComparison.Ordinal))
                {
                    rules.Add($"{chain}: {line}");
                }
            }
        }
        else
        {
            foreach (var table in (string[])["nat", "filter"])
            {
                rules.AddRange(Testbed.Exec(host, ["iptables", "-t", table, "-S"]).Stdout.Split('\n')
                    .Where(l => l.StartsWith("-A ", StringComparison.Ordinal) && l.Contains("FLANNEL", StringComparison.Ordinal)));
            }
        }
        rules.Sort(StringComparer.Ordinal);
        return rules;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_networks_and_flanneld_s_keep_each_other_s_rules_and_each_daemon_repairs_its_own(bool nftables)
    {
        string mode = nftables ? "nftables" : "iptables";
        string nft = nftables ? ",\"EnableNFTables\":true" : "";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", "/vxlan/network/config", $$"""{"Network":"{{VxlanNetwork}}","Backend":{"Type":"vxlan"}{{nft}}}""");
        bed.Etcdctl(true, "put", "/hostgw/network/config", $$"""{"Network":"{{HostGwNetwork}}","Backend":{"Type":"host-gw"}{{nft}}}""");
        string[] hosts = [bed.AddHost(1), bed.AddHost(2)];
        foreach (var (h, i) in hosts.Select((h, i) => (h, i)))
        {
            FlanneldStarts(h, nftables, $"10.72.{i + 1}.0/24");
            if (!nftables)
            {
                // As dockerd leaves it: forwarding works only through the forward rules.
                Testbed.Exec(h, ["iptables", "-P", "FORWARD", "DROP"]);
            }
        }

        string[] args = ["--ip-masq", "--iptables-resync", "1"];
        var daemons = new Dictionary<(string Host, string Net), TestDaemon>();
        foreach (var h in hosts)
        {
            daemons[(h, "v")] = TestDaemon.Start(bed, h, "/vxlan/network", args, name: "-vxlan");
            daemons[(h, "h")] = TestDaemon.Start(bed, h, "/hostgw/network", args, name: "-hostgw");
        }
        var env = new Dictionary<(string, string), Dictionary<string, string>>();
        foreach (var (key, d) in daemons)
        {
            env[key] = await d.WaitForSubnetEnvAsync(bed);
        }
        string Logs() => string.Join("\n", daemons.Select(d => $"[{d.Key.Host} {d.Key.Net}]\n{bed.LogOf(d.Value.Process)}"));

        // Exactly the three networks' rules on each host, in v0.28.9's layout, the shared ones once.
        List<string> Expected(int i)
        {
            string h = hosts[i];
            var sets = new[]
            {
                (FlanneldNetwork, $"10.72.{i + 1}.0/24"),
                (VxlanNetwork, TestDaemon.NetworkOf(env[(h, "v")]["FLANNEL_SUBNET"])),
                (HostGwNetwork, TestDaemon.NetworkOf(env[(h, "h")]["FLANNEL_SUBNET"])),
            };
            var all = sets.SelectMany(s => nftables ? FlanneldNft(s.Item1, s.Item2) : FlanneldIptables(s.Item1, s.Item2)).Distinct().ToList();
            all.Sort(StringComparer.Ordinal);
            return all;
        }
        void AssertRules(string when)
        {
            for (int i = 0; i < hosts.Length; i++)
            {
                var actual = RulesOn(hosts[i], nftables);
                Assert.True(Expected(i).SequenceEqual(actual),
                    $"{mode} {when}, {hosts[i]}:\nexpected\n{string.Join('\n', Expected(i))}\nactual\n{string.Join('\n', actual)}\n{Logs()}");
            }
        }

        // Containers of both networks on each host ping the other host's.
        var containers = new Dictionary<(string, string), (string Ns, string Address)>();
        foreach (var ((h, net), e) in env)
        {
            int mtu = int.Parse(e["FLANNEL_MTU"], CultureInfo.InvariantCulture);
            containers[(h, net)] = (bed.AddContainer(h, e["FLANNEL_SUBNET"], mtu, net), Testbed.ContainerAddress(e["FLANNEL_SUBNET"]));
        }
        foreach (var net in (string[])["v", "h"])
        {
            Assert.True(Testbed.Ping(containers[(hosts[0], net)].Ns, containers[(hosts[1], net)].Address), $"{mode} {net} 1 -> 2\n{Logs()}");
            Assert.True(Testbed.Ping(containers[(hosts[1], net)].Ns, containers[(hosts[0], net)].Address), $"{mode} {net} 2 -> 1");
        }

        // Several resync periods (1 s): nothing moves, nobody repairs.
        for (int round = 0; round < 4; round++)
        {
            AssertRules($"after {round + 1} s");
            await Task.Delay(1200);
        }
        Assert.DoesNotContain(Changed, Logs(), StringComparison.Ordinal);
        if (nftables)
        {
            Assert.Contains("comment \"chain to manage traffic masquerading by flannel\"",
                Testbed.Exec(hosts[0], ["nft", "list", "table", "ip", "flannel-ipv4"]).Stdout, StringComparison.Ordinal);
        }

        // One rule of host 1's vxlan daemon deleted by hand: it comes back within a resync or two; the host-gw daemon
        // and flanneld's rules are not touched.
        string h1 = hosts[0], vxlanSubnet = TestDaemon.NetworkOf(env[(h1, "v")]["FLANNEL_SUBNET"]);
        if (nftables)
        {
            string handle = Testbed.Exec(h1, ["nft", "-a", "list", "chain", "ip", "flannel-ipv4", "postrtg"]).Stdout.Split('\n')
                .First(l => l.Contains($"ip saddr {vxlanSubnet} ip daddr {VxlanNetwork} return", StringComparison.Ordinal)).Trim().Split(' ')[^1];
            Testbed.Exec(h1, ["nft", "delete", "rule", "ip", "flannel-ipv4", "postrtg", "handle", handle]);
        }
        else
        {
            Testbed.Exec(h1, ["iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "-s", vxlanSubnet, "-d", VxlanNetwork, "-m", "comment",
                "--comment", "flanneld masq", "-j", "RETURN"]);
        }
        await Wait.UntilAsync(() => Expected(0).SequenceEqual(RulesOn(h1, nftables)), TimeSpan.FromSeconds(5), $"{mode}: the deleted rule back");
        await Task.Delay(2500); // and nothing else happens over two more periods
        AssertRules("after the repair");
        // The repair was the vxlan daemon's (its warning), and no one else's.
        Assert.Contains(Changed, bed.LogOf(daemons[(h1, "v")].Process), StringComparison.Ordinal);
        foreach (var (key, d) in daemons.Where(d => d.Key != (h1, "v")))
        {
            Assert.DoesNotContain(Changed, bed.LogOf(d.Process), StringComparison.Ordinal);
        }
        Assert.Single(Regex.Matches(bed.LogOf(daemons[(h1, "v")].Process), Regex.Escape(Changed)));
        foreach (var net in (string[])["v", "h"])
        {
            Assert.True(Testbed.Ping(containers[(hosts[0], net)].Ns, containers[(hosts[1], net)].Address), $"{mode} {net} 1 -> 2 at the end");
        }
        output.WriteLine($"{mode}: host 1's rules\n{string.Join('\n', RulesOn(h1, nftables))}");
    }
}
