using Flannel.Daemon.Rules;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Daemon.Tests.Rules;

/// <summary>
/// flanneld v0.28.9's masquerade and forward rules applied with the host's iptables-restore and nft inside a test
/// namespace (root), next to another network's, then damaged the ways an operator or another daemon does, and put back.
/// </summary>
[NeedsRoot]
public sealed class TrafficRulesTests
{
    private static readonly Ip4Network Network = Ip4Network.ParseCidr("10.5.0.0/16");
    private static readonly Ip4Network Subnet = Ip4Network.ParseCidr("10.5.88.0/24");
    private static readonly Ip4Network OtherNetwork = Ip4Network.ParseCidr("10.60.0.0/16");
    private static readonly Ip4Network OtherSubnet = Ip4Network.ParseCidr("10.60.7.0/24");

    // Each test its own lock file: the namespaces are separate hosts.
    private readonly RulesLock _lock = new(Path.Combine(Path.GetTempPath(), $"flannel-rules-{Guid.NewGuid():N}.lock"));

    private static ProgramRunner In(NetNs ns) => new(["ip", "netns", "exec", ns.Name]);

    private IptablesFilter Iptables(NetNs ns) => new(In(ns), rulesLock: _lock);

    private NftablesFilter Nftables(NetNs ns) => new(In(ns), rulesLock: _lock);

    private static TrafficRules Rules(IPacketFilter filter, bool randomFully = true, Ip4Network? previousNetwork = null,
        Ip4Network? previousSubnet = null) =>
        new(filter, TimeSpan.FromSeconds(5), masquerade: true, forward: true, randomFully, NullLogger.Instance, null, previousNetwork, previousSubnet);

    private static string[] Chain(NetNs ns, string table, string chain) =>
        ns.Exec("iptables", "-t", table, "-S", chain).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("-A ", StringComparison.Ordinal)).ToArray();

    private static string Rule(string chain, string spec) => $"-A {chain} {spec}";

    [Fact]
    public void Iptables_rules_are_flanneld_v0_28_9_s_in_order_and_come_back_when_deleted_or_duplicated()
    {
        using var ns = NetNs.Create();
        var rules = Rules(Iptables(ns));
        rules.Apply(Network, Subnet);

        string nat = ns.Exec("iptables", "-t", "nat", "-S");
        Assert.Contains("""
            -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
            -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.88.0/24 -d 10.5.0.0/16 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 -d 10.5.88.0/24 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.88.0/24 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            """, nat, StringComparison.Ordinal);
        string filter = ns.Exec("iptables", "-t", "filter", "-S");
        Assert.Contains("""
            -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
            -A FLANNEL-FWD -s 10.5.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
            -A FLANNEL-FWD -d 10.5.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
            """, filter, StringComparison.Ordinal);
        Assert.False(rules.Check(), "nothing changed yet");

        // Deleted rule and deleted jump: flanneld's resync deletes and appends all its rules, in order.
        ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "3");
        ns.Exec("iptables", "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD");
        Assert.True(rules.Check());
        Assert.Equal(nat, ns.Exec("iptables", "-t", "nat", "-S"));
        Assert.Equal(filter, ns.Exec("iptables", "-t", "filter", "-S"));

        // A copy of a rule of ours (flanneld does not look for these): one stays.
        ns.Exec("iptables", "-t", "nat", "-I", "POSTROUTING", "1", "-m", "comment", "--comment", "flanneld masq", "-j", "FLANNEL-POSTRTG");
        Assert.True(rules.Check());
        Assert.Equal(nat, ns.Exec("iptables", "-t", "nat", "-S"));
        Assert.False(rules.Check());
    }

    [Fact]
    public async Task Forward_rules_are_applied_before_the_lease_is_known_and_masquerade_rules_only_after()
    {
        using var ns = NetNs.Create();
        var forwardOnly = new TrafficRules(Iptables(ns), TimeSpan.FromSeconds(5), masquerade: false, forward: true,
            randomFully: true, NullLogger.Instance);
        await forwardOnly.PrepareAsync(Network);
        string filter = ns.Exec("iptables", "-t", "filter", "-S");
        Assert.Contains("-A FLANNEL-FWD -s 10.5.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT", filter, StringComparison.Ordinal);
        forwardOnly.Apply(Network, Subnet); // already in place: nothing applied twice
        Assert.Equal(filter, ns.Exec("iptables", "-t", "filter", "-S"));
        Assert.False(forwardOnly.Check());

        using var ns2 = NetNs.Create();
        var withMasq = Rules(Iptables(ns2));
        await withMasq.PrepareAsync(Network);
        Assert.DoesNotContain("FLANNEL", ns2.Exec("iptables", "-t", "nat", "-S") + ns2.Exec("iptables", "-t", "filter", "-S"), StringComparison.Ordinal);
        withMasq.Apply(Network, Subnet);
        Assert.Contains("-d 10.5.88.0/24", ns2.Exec("iptables", "-t", "nat", "-S"), StringComparison.Ordinal);
        Assert.Single(ns2.Exec("iptables", "-t", "filter", "-S").Split('\n'), l => l.StartsWith("-A FORWARD", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_networks_keep_each_other_s_rules_and_each_repairs_only_its_own()
    {
        using var ns = NetNs.Create();
        var ours = Rules(Iptables(ns));
        var theirs = Rules(Iptables(ns), randomFully: false);
        ours.Apply(Network, Subnet);
        theirs.Apply(OtherNetwork, OtherSubnet);
        var both = new RulePolicy(Network, Subnet, true, true, true).IptablesRules
            .Concat(new RulePolicy(OtherNetwork, OtherSubnet, true, true, false).IptablesRules).Distinct().ToList();
        void AssertBoth()
        {
            var all = Chain(ns, "nat", "POSTROUTING").Concat(Chain(ns, "nat", "FLANNEL-POSTRTG"))
                .Concat(Chain(ns, "filter", "FORWARD")).Concat(Chain(ns, "filter", "FLANNEL-FWD")).ToList();
            Assert.Equal(both.Select(r => Rule(r.Chain, r.Spec)).Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        }
        AssertBoth();
        for (int i = 0; i < 3; i++)
        {
            Assert.False(ours.Check());
            Assert.False(theirs.Check());
        }

        // One of theirs deleted: only they repair, and our rules stay where they are.
        ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "-s", "10.60.7.0/24", "-d", "10.60.0.0/16", "-m", "comment", "--comment",
            "flanneld masq", "-j", "RETURN");
        Assert.False(ours.Check());
        Assert.True(theirs.Check());
        AssertBoth();
        Assert.False(ours.Check());

        // The shared jump deleted: the first to check puts it back, once.
        ns.Exec("iptables", "-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "flanneld masq", "-j", "FLANNEL-POSTRTG");
        Assert.True(ours.Check());
        Assert.False(theirs.Check());
        AssertBoth();

        // A restart of ours: its rules are deleted and appended again, theirs stay.
        Rules(Iptables(ns), previousNetwork: Network, previousSubnet: Subnet).Apply(Network, Subnet);
        AssertBoth();
        Assert.False(theirs.Check());
    }

    [Fact]
    public void The_earlier_layout_and_the_previous_lease_of_our_network_go_at_start_and_another_network_s_rules_stay()
    {
        using var ns = NetNs.Create();
        Rules(Iptables(ns), randomFully: false).Apply(OtherNetwork, OtherSubnet);
        // What this daemon wrote before (flanneld v0.20.2's layout, jumps inserted first) for subnet 10.5.3.0/24.
        string m = "-m comment --comment \"flanneld masq\"", f = "-m comment --comment \"flanneld forward\"";
        ns.Exec("sh", "-c", $"""
            iptables-restore --noflush <<'EOF'
            *nat
            -I POSTROUTING 1 {m} -j FLANNEL-POSTRTG
            -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {m} -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 -d 10.5.0.0/16 {m} -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 ! -d 224.0.0.0/4 {m} -j MASQUERADE --random-fully
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.3.0/24 {m} -j RETURN
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.0.0/16 {m} -j MASQUERADE --random-fully
            COMMIT
            *filter
            -I FORWARD 1 {f} -j FLANNEL-FWD
            -A FLANNEL-FWD -s 10.5.0.0/16 {f} -j ACCEPT
            -A FLANNEL-FWD -d 10.5.0.0/16 {f} -j ACCEPT
            COMMIT
            EOF
            """);
        var rules = Rules(Iptables(ns), previousNetwork: Network, previousSubnet: Ip4Network.ParseCidr("10.5.3.0/24"));
        rules.Apply(Network, Subnet);

        var other = new RulePolicy(OtherNetwork, OtherSubnet, true, true, false).IptablesRules;
        var ours = new RulePolicy(Network, Subnet, true, true, true).IptablesRules;
        // The shared mark rule once and first (the earlier layout had added a copy), their rules, then ours (deleted
        // and appended).
        Assert.Equal(
            new[] { RulePolicy.MarkReturn }.Concat(other.Where(r => r.Chain == "FLANNEL-POSTRTG" && !RulePolicy.IsShared(r)))
                .Concat(ours.Where(r => r.Chain == "FLANNEL-POSTRTG" && !RulePolicy.IsShared(r))).Select(r => Rule(r.Chain, r.Spec)),
            Chain(ns, "nat", "FLANNEL-POSTRTG"));
        Assert.Equal([Rule("POSTROUTING", RulePolicy.MasqJump.Spec)], Chain(ns, "nat", "POSTROUTING"));
        Assert.Equal([Rule("FORWARD", RulePolicy.ForwardJump.Spec)], Chain(ns, "filter", "FORWARD"));
        Assert.Equal(4, Chain(ns, "filter", "FLANNEL-FWD").Length);
        Assert.False(rules.Check());
    }

    [Fact]
    public void Nftables_rules_are_v0_28_9_s_table_shared_by_two_networks_and_repaired()
    {
        using var ns = NetNs.Create();
        // A host switched from iptables mode, where another network's daemon still runs in iptables mode.
        Rules(Iptables(ns)).Apply(Network, Subnet);
        Rules(Iptables(ns), randomFully: false).Apply(OtherNetwork, OtherSubnet);
        var ours = Rules(Nftables(ns));
        var theirs = Rules(Nftables(ns), randomFully: false);
        ours.Apply(Network, Subnet);
        theirs.Apply(OtherNetwork, OtherSubnet);
        ours.RemoveOtherMode(); // RunAsync does this after READY

        string table = ns.Exec("nft", "list", "table", "ip", "flannel-ipv4");
        Assert.Equal("""
            table ip flannel-ipv4 {
            	comment "rules for flannel-ipv4"
            	chain postrtg {
            		comment "chain to manage traffic masquerading by flannel"
            		type nat hook postrouting priority srcnat; policy accept;
            		meta mark 0x00004000 return
            		ip saddr 10.5.88.0/24 ip daddr 10.5.0.0/16 return
            		ip saddr 10.5.0.0/16 ip daddr 10.5.88.0/24 return
            		ip saddr != 10.5.88.0/24 ip daddr 10.5.0.0/16 return
            		ip saddr 10.5.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random
            		ip saddr != 10.5.0.0/16 ip daddr 10.5.0.0/16 masquerade fully-random
            		ip saddr 10.60.7.0/24 ip daddr 10.60.0.0/16 return
            		ip saddr 10.60.0.0/16 ip daddr 10.60.7.0/24 return
            		ip saddr != 10.60.7.0/24 ip daddr 10.60.0.0/16 return
            		ip saddr 10.60.0.0/16 ip daddr != 224.0.0.0/4 masquerade
            		ip saddr != 10.60.0.0/16 ip daddr 10.60.0.0/16 masquerade
            	}

            	chain forward {
            		comment "chain to accept flannel traffic"
            		type filter hook forward priority filter; policy accept;
            		ip saddr 10.5.0.0/16 accept
            		ip daddr 10.5.0.0/16 accept
            		ip saddr 10.60.0.0/16 accept
            		ip daddr 10.60.0.0/16 accept
            	}
            }

            """.Replace("\r", "", StringComparison.Ordinal), table);
        Assert.Contains("comment \"rules for flannel-ipv6\"", ns.Exec("nft", "list", "table", "ip6", "flannel-ipv6"), StringComparison.Ordinal);
        // Our network's iptables rules went; the other network's (still in iptables mode) and the jumps they need stay.
        string nat = ns.Exec("iptables", "-t", "nat", "-S"), filter = ns.Exec("iptables", "-t", "filter", "-S");
        Assert.DoesNotContain("10.5.", nat + filter, StringComparison.Ordinal);
        Assert.Contains("-s 10.60.7.0/24 -d 10.60.0.0/16", nat, StringComparison.Ordinal);
        Assert.Contains(RulePolicy.MasqJump.Spec, nat, StringComparison.Ordinal);
        Assert.Contains(RulePolicy.ForwardJump.Spec, filter, StringComparison.Ordinal);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(ours.Check());
            Assert.False(theirs.Check());
        }

        // One of ours deleted by hand: we put ours back at the end, theirs stay.
        string handle = ns.Exec("nft", "-a", "list", "chain", "ip", "flannel-ipv4", "postrtg").Split('\n')
            .First(l => l.Contains("ip saddr 10.5.0.0/16 ip daddr 10.5.88.0/24 return", StringComparison.Ordinal)).Split(' ')[^1];
        ns.Exec("nft", "delete", "rule", "ip", "flannel-ipv4", "postrtg", "handle", handle);
        Assert.False(theirs.Check());
        Assert.True(ours.Check());
        Assert.False(ours.Check());
        string repaired = ns.Exec("nft", "list", "table", "ip", "flannel-ipv4");
        Assert.Equal(table.Split('\n').Order(StringComparer.Ordinal), repaired.Split('\n').Order(StringComparer.Ordinal));

        // flanneld v0.28.9 flushes the chain when it starts: ours come back, once.
        ns.Exec("nft", "flush", "chain", "ip", "flannel-ipv4", "postrtg");
        Assert.True(ours.Check());
        Assert.True(theirs.Check());
        Assert.Equal(table.Split('\n').Order(StringComparer.Ordinal), ns.Exec("nft", "list", "table", "ip", "flannel-ipv4").Split('\n').Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_table_of_the_earlier_layout_is_made_again_with_comments_and_our_rules_leave_the_nftables_table_in_iptables_mode()
    {
        using var ns = NetNs.Create();
        // The earlier layout: the same rules, no comments.
        ns.Exec("sh", "-c", """
            nft -f - <<'EOF'
            table ip flannel-ipv4 {
              chain postrtg {
                type nat hook postrouting priority srcnat; policy accept;
                meta mark 0x4000 return
                ip saddr 10.5.3.0/24 ip daddr 10.5.0.0/16 return
              }
            }
            EOF
            """);
        var nft = Rules(Nftables(ns), previousNetwork: Network, previousSubnet: Ip4Network.ParseCidr("10.5.3.0/24"));
        nft.Apply(Network, Subnet);
        string table = ns.Exec("nft", "list", "table", "ip", "flannel-ipv4");
        Assert.Contains("comment \"rules for flannel-ipv4\"", table, StringComparison.Ordinal);
        Assert.Contains("comment \"chain to manage traffic masquerading by flannel\"", table, StringComparison.Ordinal);
        Assert.DoesNotContain("10.5.3.0", table, StringComparison.Ordinal);
        Assert.Equal(8, table.Split('\n').Count(l => !l.Contains("comment", StringComparison.Ordinal) && !l.Contains("policy", StringComparison.Ordinal)
            && (l.EndsWith(" return", StringComparison.Ordinal) || l.Contains(" masquerade", StringComparison.Ordinal) || l.EndsWith(" accept", StringComparison.Ordinal))));

        // Back to iptables mode with another network still in nftables mode: only our rules leave the table.
        Rules(Nftables(ns), randomFully: false).Apply(OtherNetwork, OtherSubnet);
        var ipt = Rules(Iptables(ns));
        ipt.Apply(Network, Subnet);
        ipt.RemoveOtherMode();
        table = ns.Exec("nft", "list", "table", "ip", "flannel-ipv4");
        Assert.DoesNotContain("10.5.", table, StringComparison.Ordinal);
        Assert.Contains("meta mark 0x00004000 return", table, StringComparison.Ordinal);
        Assert.Equal(7, table.Split('\n').Count(l => l.Contains("10.60.", StringComparison.Ordinal)));

        // Alone: the table goes, and the empty ip6 table with it.
        var last = Rules(Iptables(ns), randomFully: false);
        last.Apply(OtherNetwork, OtherSubnet);
        last.RemoveOtherMode();
        Assert.DoesNotContain("flannel", ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public void Ipv6_rules_of_a_dual_stack_network_go_to_ip6tables_and_the_ip6_table_next_to_the_ipv4_ones_and_are_repaired()
    {
        var n6 = Ip6Network.ParseCidr("2001:db8:5::/48");
        var s6 = Ip6Network.ParseCidr("2001:db8:5:58::/64");
        using var ns = NetNs.Create();
        var v4 = Rules(Iptables(ns));
        var v6 = Rules(new IptablesFilter(In(ns), IpFamily.Ip6, _lock));
        Assert.Equal("ip6tables", v6.LoopName);
        v4.Apply(Network, Subnet);
        v6.Apply(n6, s6);

        string nat6 = ns.Exec("ip6tables", "-t", "nat", "-S");
        Assert.Contains("""
            -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
            -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 2001:db8:5:58::/64 -d 2001:db8:5::/48 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 2001:db8:5::/48 -d 2001:db8:5:58::/64 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG ! -s 2001:db8:5::/48 -d 2001:db8:5:58::/64 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 2001:db8:5::/48 ! -d ff00::/8 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            -A FLANNEL-POSTRTG ! -s 2001:db8:5::/48 -d 2001:db8:5::/48 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            """, nat6, StringComparison.Ordinal);
        string filter6 = ns.Exec("ip6tables", "-t", "filter", "-S");
        Assert.Contains("""
            -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
            -A FLANNEL-FWD -s 2001:db8:5::/48 -m comment --comment "flanneld forward" -j ACCEPT
            -A FLANNEL-FWD -d 2001:db8:5::/48 -m comment --comment "flanneld forward" -j ACCEPT
            """, filter6, StringComparison.Ordinal);
        string nat4 = ns.Exec("iptables", "-t", "nat", "-S");
        Assert.Contains("-s 10.5.88.0/24 -d 10.5.0.0/16", nat4, StringComparison.Ordinal);
        Assert.DoesNotContain("2001:db8", nat4, StringComparison.Ordinal);
        Assert.False(v4.Check());
        Assert.False(v6.Check());

        // An IPv6 rule deleted by hand: only the IPv6 loop repairs, to the same text.
        ns.Exec("ip6tables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "3");
        Assert.False(v4.Check());
        Assert.True(v6.Check());
        Assert.Equal(nat6, ns.Exec("ip6tables", "-t", "nat", "-S"));
        Assert.Equal(nat4, ns.Exec("iptables", "-t", "nat", "-S"));

        // nftables mode: the IPv6 rules live in ip6 flannel-ipv6, and ours leave ip6tables.
        var nft6 = Rules(new NftablesFilter(In(ns), IpFamily.Ip6, _lock));
        nft6.Apply(n6, s6);
        nft6.RemoveOtherMode();
        string table = ns.Exec("nft", "list", "table", "ip6", "flannel-ipv6");
        Assert.Contains("""
            		meta mark 0x00004000 return
            		ip6 saddr 2001:db8:5:58::/64 ip6 daddr 2001:db8:5::/48 return
            		ip6 saddr 2001:db8:5::/48 ip6 daddr 2001:db8:5:58::/64 return
            		ip6 saddr != 2001:db8:5:58::/64 ip6 daddr 2001:db8:5::/48 return
            		ip6 saddr 2001:db8:5::/48 ip6 daddr != ff00::/8 masquerade fully-random
            		ip6 saddr != 2001:db8:5::/48 ip6 daddr 2001:db8:5::/48 masquerade fully-random
            """.Replace("\r", "", StringComparison.Ordinal), table, StringComparison.Ordinal);
        Assert.Contains("ip6 saddr 2001:db8:5::/48 accept", table, StringComparison.Ordinal);
        Assert.DoesNotContain("2001:db8", ns.Exec("ip6tables", "-t", "nat", "-S") + ns.Exec("ip6tables", "-t", "filter", "-S"), StringComparison.Ordinal);
        Assert.Contains("-s 10.5.88.0/24 -d 10.5.0.0/16", ns.Exec("iptables", "-t", "nat", "-S"), StringComparison.Ordinal);
        Assert.False(nft6.Check());
        ns.Exec("nft", "flush", "chain", "ip6", "flannel-ipv6", "postrtg");
        Assert.True(nft6.Check());
        Assert.Equal(table, ns.Exec("nft", "list", "table", "ip6", "flannel-ipv6"));
    }
}
