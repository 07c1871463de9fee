using Flannel.Daemon.Rules;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests.Rules;

/// <summary>Desired rules against what <c>nft -j list table ip flannel-ipv4</c> shows, to the nft -f transaction (pure).</summary>
[Unit]
public class NftPlanTests
{
    private static readonly RulePolicy Ours = RulePolicyTests.Policy();
    private static readonly RulePolicy Theirs =
        new(Ip4Network.ParseCidr("10.60.0.0/16"), Ip4Network.ParseCidr("10.60.7.0/24"), true, true, RandomFully: false);

    // As nft 1.0.6 prints it (captured from `nft -j list table ip flannel-ipv4` after adding flanneld's rules).
    private const string Listed = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
         {"table": {"family": "ip", "name": "flannel-ipv4", "handle": 1}},
         {"chain": {"family": "ip", "table": "flannel-ipv4", "name": "postrtg", "handle": 1, "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}},
         {"chain": {"family": "ip", "table": "flannel-ipv4", "name": "forward", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "postrtg", "handle": 3, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 16384}}, {"return": null}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "postrtg", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.60.7.0", "len": 24}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.60.0.0", "len": 16}}}}, {"return": null}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "postrtg", "handle": 5, "expr": [{"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.5.88.0", "len": 24}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.5.0.0", "len": 16}}}}, {"return": null}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "postrtg", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.5.0.0", "len": 16}}}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "224.0.0.0", "len": 4}}}}, {"masquerade": {"flags": "fully-random"}}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "postrtg", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.60.0.0", "len": 16}}}}, {"masquerade": null}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "forward", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.5.0.0", "len": 16}}}}, {"accept": null}]}},
         {"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "forward", "handle": 9, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}
        """;

    /// <summary>A listing of the given rules, handles from 10 in order, as nft prints our expressions.</summary>
    internal static NftRuleset Table(params IEnumerable<NftRule>[] sets)
    {
        var rules = new List<string>();
        int handle = 10;
        var seen = new List<NftRule>();
        foreach (var set in sets)
        {
            var mine = set.ToList();
            foreach (var shared in mine.Where(RulePolicy.IsShared).Distinct().Where(seen.Contains).ToList())
            {
                mine.Remove(shared);
            }
            seen.AddRange(mine);
        }
        foreach (var r in seen)
        {
            rules.Add($$$"""{"rule": {"family": "ip", "table": "flannel-ipv4", "chain": "{{{r.Chain}}}", "handle": {{{handle++}}}, "expr": [{{{Json(r.Expr)}}}]}}""");
        }
        return NftRuleset.Parse($$$"""
            {"nftables": [{"table": {"family": "ip", "name": "flannel-ipv4", "handle": 1}},
             {"chain": {"family": "ip", "table": "flannel-ipv4", "name": "postrtg", "handle": 1}},
             {"chain": {"family": "ip", "table": "flannel-ipv4", "name": "forward", "handle": 2}}{{{string.Concat(rules.Select(r => ",\n" + r))}}}]}
            """);
    }

    private static string Json(string expr)
    {
        var parts = new List<string>();
        var words = expr.Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            switch (words[i])
            {
                case "meta":
                    parts.Add("{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"mark\"}}, \"right\": " + Convert.ToInt64(words[i + 2], 16) + "}}");
                    i += 2;
                    break;
                case "ip":
                    string op = words[i + 2] == "!=" ? "!=" : "==";
                    string value = words[op == "!=" ? i + 3 : i + 2];
                    var (addr, len) = (value.Split('/')[0], value.Split('/')[1]);
                    parts.Add("{\"match\": {\"op\": \"" + op + "\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"" + words[i + 1] + "\"}}, \"right\": {\"prefix\": {\"addr\": \"" + addr + "\", \"len\": " + len + "}}}}");
                    i += op == "!=" ? 3 : 2;
                    break;
                case "masquerade" when i + 1 < words.Length:
                    parts.Add("""{"masquerade": {"flags": "fully-random"}}""");
                    i++;
                    break;
                default:
                    parts.Add($$$"""{"{{{words[i]}}}": null}""");
                    break;
            }
        }
        return string.Join(", ", parts);
    }

    private static List<string> Lines(string? payload) => (payload ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    [Fact]
    public void Listed_rules_render_in_the_syntax_rules_are_added_in()
    {
        var table = NftRuleset.Parse(Listed);
        Assert.True(table.Exists);
        Assert.Equal(["postrtg", "forward"], table.Chains.Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(
        [
            ("postrtg: meta mark 0x4000 return", 3L),
            ("postrtg: ip saddr 10.60.7.0/24 ip daddr 10.60.0.0/16 return", 4),
            ("postrtg: ip saddr != 10.5.88.0/24 ip daddr 10.5.0.0/16 return", 5),
            ("postrtg: ip saddr 10.5.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random", 6),
            ("postrtg: ip saddr 10.60.0.0/16 masquerade", 8),
            ("forward: ip saddr 10.5.0.0/16 accept", 7),
        ], table.Rules.Take(6).Select(r => (r.Rule.ToString(), r.Handle)));
        // An expression flannel does not write never equals a rule of ours.
        Assert.StartsWith("{", table.Rules[6].Rule.Expr, StringComparison.Ordinal);
        Assert.Equal(Ours.NftRules.Select(r => r.ToString()), Table(Ours.NftRules).Rules.Select(r => r.Rule.ToString()));
    }

    [Fact]
    public void Our_rules_are_deleted_by_handle_and_added_again_and_another_network_s_stay()
    {
        var table = Table(Theirs.NftRules, Ours.NftRules);
        Assert.Empty(NftPlan.Problems(table, Ours.NftRules));
        Assert.Empty(NftPlan.Problems(table, Theirs.NftRules));
        var lines = Lines(NftPlan.Build(table, Ours.NftRules, Ours.RetiredNftRules(null, null), rebuild: true));
        Assert.Equal(
        [
            "add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }",
            "add table ip6 flannel-ipv6 { comment \"rules for flannel-ipv6\" ; }",
            "add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; comment \"chain to manage traffic masquerading by flannel\" ; }",
            "add chain ip flannel-ipv4 forward { type filter hook forward priority filter ; comment \"chain to accept flannel traffic\" ; }",
        ], lines[..4]);
        Assert.DoesNotContain(lines, l => l.Contains("flush", StringComparison.Ordinal) || l.StartsWith("delete table", StringComparison.Ordinal));
        var theirHandles = table.Rules.Where(r => Theirs.NftRules.Contains(r.Rule) && !RulePolicy.IsShared(r.Rule)).Select(r => $"handle {r.Handle}");
        Assert.DoesNotContain(lines, l => theirHandles.Any(h => l.EndsWith(h, StringComparison.Ordinal)));
        Assert.Equal(7, lines.Count(l => l.StartsWith("delete rule", StringComparison.Ordinal)));
        Assert.Equal(Ours.NftRules.Skip(1).Select(r => $"add rule ip flannel-ipv4 {r.Chain} {r.Expr}"), lines.Where(l => l.Contains(" rule ", StringComparison.Ordinal) && !l.StartsWith("delete", StringComparison.Ordinal)));

        // The shared mark rule missing: inserted first, before the other network's masquerade.
        var noMark = Table(Theirs.NftRules.Skip(1), Ours.NftRules.Skip(1));
        lines = Lines(NftPlan.Build(noMark, Ours.NftRules, [], rebuild: false));
        Assert.Contains("insert rule ip flannel-ipv4 postrtg meta mark 0x4000 return", lines);
    }

    [Fact]
    public void A_table_of_nothing_but_our_rules_is_made_again_with_v0_28_9_s_comments()
    {
        var prevS = Ip4Network.ParseCidr("10.5.3.0/24");
        var table = Table(RulePolicy.NftMasqRules(Ours.Network, prevS, randomFully: true), RulePolicy.NftForwardRules(Ours.Network));
        var lines = Lines(NftPlan.Build(table, Ours.NftRules, Ours.RetiredNftRules(Ours.Network, prevS), rebuild: true));
        Assert.Equal("delete table ip flannel-ipv4", lines[0]);
        Assert.DoesNotContain(lines, l => l.StartsWith("delete rule", StringComparison.Ordinal));
        Assert.Equal(7, lines.Count(l => l.StartsWith("add rule", StringComparison.Ordinal)));
        Assert.Single(lines, "insert rule ip flannel-ipv4 postrtg meta mark 0x4000 return");

        // Not at a resync, and never with another network's rule in the table: the previous lease's rules go by handle.
        Assert.DoesNotContain("delete table ip flannel-ipv4", Lines(NftPlan.Build(table, Ours.NftRules, [], rebuild: false)));
        var shared = Table(Theirs.NftRules, RulePolicy.NftMasqRules(Ours.Network, prevS, randomFully: true));
        lines = Lines(NftPlan.Build(shared, Ours.NftRules, Ours.RetiredNftRules(Ours.Network, prevS), rebuild: true));
        Assert.DoesNotContain("delete table ip flannel-ipv4", lines);
        var prevHandles = shared.Rules.Where(r => r.Rule.Expr.Contains("10.5.3.0/24", StringComparison.Ordinal)).Select(r => r.Handle).ToList();
        Assert.Equal(3, prevHandles.Count);
        Assert.All(prevHandles, h => Assert.Contains($"delete rule ip flannel-ipv4 postrtg handle {h}", lines));
    }

    [Fact]
    public void Missing_and_duplicated_rules_are_problems()
    {
        var damaged = Ours.NftRules.Where((_, i) => i != 2).Append(Ours.NftRules[^1]).ToList();
        var problems = NftPlan.Problems(Table(Theirs.NftRules, damaged), Ours.NftRules);
        Assert.Equal([$"missing {Ours.NftRules[2]}", $"2 copies of {Ours.NftRules[^1]}"], problems);
        Assert.Equal(Ours.NftRules.Count, NftPlan.Problems(NftRuleset.Missing, Ours.NftRules).Count);
    }

    [Fact]
    public void Removing_our_rules_keeps_the_shared_mark_rule_while_another_network_needs_it()
    {
        var ours = Ours.AllNftRules(null, null);
        var lines = Lines(NftPlan.Build(Table(Theirs.NftRules, Ours.NftRules), [], ours, rebuild: false));
        Assert.Equal(7, lines.Count);
        Assert.All(lines, l => Assert.StartsWith("delete rule", l, StringComparison.Ordinal));
        Assert.Equal(["delete table ip flannel-ipv4"], Lines(NftPlan.Build(Table(Ours.NftRules), [], ours, rebuild: false)));
        Assert.Null(NftPlan.Build(NftRuleset.Missing, [], ours, rebuild: false));
        Assert.Null(NftPlan.Build(Table(Theirs.NftRules), [], ours, rebuild: false));
    }
}
