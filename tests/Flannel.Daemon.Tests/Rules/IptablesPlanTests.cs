using Flannel.Daemon.Rules;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests.Rules;

/// <summary>Desired rules against what iptables-save shows, to the iptables-restore transaction (pure).</summary>
[Unit]
public class IptablesPlanTests
{
    private static readonly Ip4Network N = Ip4Network.ParseCidr("10.5.0.0/16");
    private static readonly Ip4Network S = Ip4Network.ParseCidr("10.5.88.0/24");
    private static readonly RulePolicy Ours = RulePolicyTests.Policy();
    // Another network's daemon (flanneld v0.28.9 or ours) on the same host.
    private static readonly RulePolicy Theirs =
        new(Ip4Network.ParseCidr("10.60.0.0/16"), Ip4Network.ParseCidr("10.60.7.0/24"), true, true, RandomFully: false);

    // Several daemons' rule sets as they sit on one host: a shared rule (a jump, the mark rule) that an earlier set
    // has already is there once.
    private static string Save(params IEnumerable<IptablesRule>[] sets)
    {
        var all = new List<IptablesRule>();
        foreach (var set in sets)
        {
            var mine = set.ToList();
            foreach (var shared in mine.Where(RulePolicy.IsShared).Distinct().Where(all.Contains).ToList())
            {
                mine.Remove(shared);
            }
            all.AddRange(mine);
        }
        var text = new System.Text.StringBuilder();
        foreach (var (table, builtins) in new[] { ("nat", "PREROUTING,INPUT,OUTPUT,POSTROUTING"), ("filter", "INPUT,FORWARD,OUTPUT") })
        {
            text.Append($"*{table}\n");
            foreach (var b in builtins.Split(','))
            {
                text.Append($":{b} ACCEPT [0:0]\n");
            }
            foreach (var chain in all.Where(r => r.Table == table).Select(r => r.Chain).Concat(all.Where(r => r.Table == table)
                         .Select(r => r.Spec.Split(' ')[^1])).Distinct().Where(c => c.StartsWith("FLANNEL", StringComparison.Ordinal)))
            {
                text.Append($":{chain} - [0:0]\n");
            }
            foreach (var r in all.Where(r => r.Table == table))
            {
                text.Append($"-A {r.Chain} {r.Spec}\n");
            }
            text.Append("COMMIT\n");
        }
        return text.ToString();
    }

    private static IptablesDump Dump(params IEnumerable<IptablesRule>[] sets) => IptablesDump.Parse(Save(sets));

    private static List<string> Lines(string? payload) => (payload ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    [Fact]
    public void On_an_empty_host_the_chains_are_created_and_our_rules_appended_in_order()
    {
        var lines = Lines(IptablesPlan.Build(Dump(), Ours.IptablesRules, []));
        Assert.Equal("*nat", lines[0]);
        Assert.Equal("-N FLANNEL-POSTRTG", lines[1]);
        Assert.Equal(Ours.IptablesRules.Where(r => r.Table == "nat").Select(r => $"-A {r.Chain} {r.Spec}"), lines[2..9]);
        Assert.Equal(["COMMIT", "*filter", "-N FLANNEL-FWD"], lines[9..12]);
        Assert.Equal(Ours.IptablesRules.Where(r => r.Table == "filter").Select(r => $"-A {r.Chain} {r.Spec}"), lines[12..15]);
        Assert.Equal("COMMIT", lines[15]);
        Assert.Equal(16, lines.Count);
    }

    [Fact]
    public void Existing_rules_of_ours_are_deleted_and_appended_again_and_another_network_s_are_left_alone()
    {
        var dump = Dump(Theirs.IptablesRules, Ours.IptablesRules);
        Assert.Empty(IptablesPlan.Problems(dump, Ours.IptablesRules));
        Assert.Empty(IptablesPlan.Problems(dump, Theirs.IptablesRules));

        var lines = Lines(IptablesPlan.Build(dump, Ours.IptablesRules, Ours.RetiredIptablesRules(N, S)));
        Assert.DoesNotContain(lines, l => l.Contains("10.60.", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("-N", StringComparison.Ordinal) || l.StartsWith("-X", StringComparison.Ordinal) || l.StartsWith(':'));
        foreach (var rule in Ours.IptablesRules.Where(r => !RulePolicy.IsShared(r)))
        {
            // flanneld's bootstrap: -D then -A, rule by rule.
            int at = lines.IndexOf($"-D {rule.Chain} {rule.Spec}");
            Assert.True(at >= 0, rule.ToString());
            Assert.Equal($"-A {rule.Chain} {rule.Spec}", lines[at + 1]);
            Assert.Single(lines, $"-A {rule.Chain} {rule.Spec}");
        }
        // The shared jumps and mark rule, there once, stay where they are.
        Assert.DoesNotContain(lines, l => Ours.IptablesRules.Where(RulePolicy.IsShared).Any(r => l.EndsWith(r.Spec, StringComparison.Ordinal)));
    }

    [Fact]
    public void Missing_and_duplicated_rules_of_ours_are_problems_and_the_rebuild_leaves_one_copy()
    {
        var damaged = Ours.IptablesRules.Where((_, i) => i != 3).Append(RulePolicy.MasqJump).Append(Ours.IptablesRules[^1]).ToList();
        var dump = Dump(Theirs.IptablesRules, damaged);
        var problems = IptablesPlan.Problems(dump, Ours.IptablesRules);
        Assert.Equal(3, problems.Count);
        Assert.Contains($"missing {Ours.IptablesRules[3]}", problems);
        Assert.Contains($"2 copies of {RulePolicy.MasqJump}", problems);
        Assert.Contains($"2 copies of {Ours.IptablesRules[^1]}", problems);

        var lines = Lines(IptablesPlan.Build(dump, Ours.IptablesRules, []));
        // The jump is there twice (the shared one and the copy): every copy deleted, one appended.
        Assert.Equal(2, lines.Count(l => l == $"-D POSTROUTING {RulePolicy.MasqJump.Spec}"));
        Assert.Single(lines, $"-A POSTROUTING {RulePolicy.MasqJump.Spec}");
        Assert.DoesNotContain($"-D {Ours.IptablesRules[3].Chain} {Ours.IptablesRules[3].Spec}", lines);
        Assert.Empty(IptablesPlan.Problems(IptablesDump.Parse(Apply(Save(Theirs.IptablesRules, damaged), lines)), Ours.IptablesRules));
        Assert.Empty(IptablesPlan.Problems(IptablesDump.Parse(Apply(Save(Theirs.IptablesRules, damaged), lines)), Theirs.IptablesRules));
    }

    [Fact]
    public void The_earlier_layout_of_our_network_and_the_previous_lease_go_and_a_similar_rule_of_another_network_stays()
    {
        var prevS = Ip4Network.ParseCidr("10.5.3.0/24");
        // What this daemon wrote before (v0.20.2's chain, jump inserted first) for its previous subnet, and another
        // network's v0.20.2 rules from an old flanneld.
        var old = RulePolicy.V0202MasqRules(N, prevS, randomFully: true).Concat(RulePolicy.ForwardRules(N)).ToList();
        var otherOld = RulePolicy.V0202MasqRules(Theirs.Network, Theirs.Subnet, randomFully: true).Skip(2).ToList();
        string save = Save(old, otherOld);
        var lines = Lines(IptablesPlan.Build(IptablesDump.Parse(save), Ours.IptablesRules, Ours.RetiredIptablesRules(N, prevS)));
        Assert.Contains("-D FLANNEL-POSTRTG -s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", lines);
        Assert.Contains("-D FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.3.0/24 -m comment --comment \"flanneld masq\" -j RETURN", lines);
        Assert.DoesNotContain(lines, l => l.Contains("10.60.", StringComparison.Ordinal));

        var after = IptablesDump.Parse(Apply(save, lines));
        // The shared mark rule, there once, stays first; ours are appended after the other network's.
        var expected = new[] { RulePolicy.MarkReturn.Spec }.Concat(otherOld.Where(r => r.Chain == RulePolicy.MasqChain).Select(r => r.Spec))
            .Concat(Ours.IptablesRules.Where(r => r.Chain == RulePolicy.MasqChain && !RulePolicy.IsShared(r)).Select(r => r.Spec));
        Assert.Equal(expected, after.Rules("nat", RulePolicy.MasqChain));
        Assert.Equal([RulePolicy.MasqJump.Spec], after.Rules("nat", "POSTROUTING"));
    }

    [Fact]
    public void Removing_our_rules_leaves_the_shared_ones_while_another_network_needs_them()
    {
        var ours = Ours.AllIptablesRules(null, null);
        var lines = Lines(IptablesPlan.Build(Dump(Theirs.IptablesRules, Ours.IptablesRules), [], ours));
        Assert.DoesNotContain(lines, l => l.Contains(RulePolicy.MasqJump.Spec, StringComparison.Ordinal)
            || l.Contains(RulePolicy.MarkReturn.Spec, StringComparison.Ordinal) || l.Contains(RulePolicy.ForwardJump.Spec, StringComparison.Ordinal));
        Assert.Equal(7, lines.Count(l => l.StartsWith("-D ", StringComparison.Ordinal)));

        // Alone on the host: the jumps, the mark rule and both chains go as well.
        lines = Lines(IptablesPlan.Build(Dump(Ours.IptablesRules), [], ours));
        Assert.Equal(10, lines.Count(l => l.StartsWith("-D ", StringComparison.Ordinal)));
        Assert.Contains("-X FLANNEL-POSTRTG", lines);
        Assert.Contains("-X FLANNEL-FWD", lines);
        Assert.Null(IptablesPlan.Build(Dump(Theirs.IptablesRules), [], ours));
    }

    /// <summary>Plays a payload's -D/-A/-N/-X lines on an iptables-save text, as iptables-restore would.</summary>
    internal static string Apply(string save, IReadOnlyList<string> payload)
    {
        var dump = IptablesDump.Parse(save);
        var chains = new Dictionary<(string, string), List<string>>();
        var text = save.Split('\n');
        string? table = null;
        foreach (var line in text)
        {
            if (line.StartsWith('*'))
            {
                table = line[1..];
            }
            else if (table is not null && line.StartsWith(':'))
            {
                string chain = line[1..line.IndexOf(' ', StringComparison.Ordinal)];
                chains[(table, chain)] = [.. dump.Rules(table, chain)];
            }
        }
        foreach (var line in payload)
        {
            if (line.StartsWith('*'))
            {
                table = line[1..];
                continue;
            }
            if (line == "COMMIT")
            {
                continue;
            }
            string[] parts = line.Split(' ', 3);
            var key = (table!, parts[1]);
            switch (parts[0])
            {
                case "-N":
                    Assert.False(chains.ContainsKey(key), line);
                    chains[key] = [];
                    break;
                case "-X":
                    Assert.Empty(chains[key]);
                    chains.Remove(key);
                    break;
                case "-A":
                    chains[key].Add(parts[2]);
                    break;
                case "-D":
                    Assert.True(chains[key].Remove(parts[2]), line);
                    break;
                default:
                    Assert.Fail(line);
                    break;
            }
        }
        var result = new System.Text.StringBuilder();
        foreach (var t in chains.Keys.Select(k => k.Item1).Distinct())
        {
            result.Append($"*{t}\n");
            foreach (var ((_, c), _) in chains.Where(k => k.Key.Item1 == t))
            {
                result.Append($":{c} - [0:0]\n");
            }
            foreach (var ((_, c), rules) in chains.Where(k => k.Key.Item1 == t))
            {
                foreach (var r in rules)
                {
                    result.Append($"-A {c} {r}\n");
                }
            }
            result.Append("COMMIT\n");
        }
        return result.ToString();
    }
}
