using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// Decides, from one <c>nft -j list table ip flannel-ipv4</c> (or <c>ip6 flannel-ipv6</c> for the IPv6 rules of a
/// dual-stack network), the <c>nft -f</c> transaction that puts our rules in place (pure). The table and its two chains are v0.28.9's and shared with every flannel network on the host; v0.28.9
/// flushes a chain before adding its rules, which would take another network's, so we delete our own rules by handle
/// and add them again instead, the way the iptables mode does. A handle that went meanwhile fails the whole
/// transaction, which is then read and planned again.
/// </summary>
internal static class NftPlan
{
    private static readonly (string Name, string Spec)[] ChainSpecs =
    [
        (RulePolicy.NftMasqChain, "type nat hook postrouting priority srcnat ; comment \"chain to manage traffic masquerading by flannel\" ;"),
        (RulePolicy.NftForwardChain, "type filter hook forward priority filter ; comment \"chain to accept flannel traffic\" ;"),
    ];

    /// <summary>What is wrong with our rules: missing ones, and copies beyond the first. Empty when in place.</summary>
    public static List<string> Problems(NftRuleset table, IReadOnlyList<NftRule> desired)
    {
        var problems = new List<string>();
        foreach (var rule in desired.Distinct())
        {
            int copies = table.Count(rule);
            if (copies == 0)
            {
                problems.Add($"missing {rule}");
            }
            else if (copies > 1)
            {
                problems.Add($"{copies} copies of {rule}");
            }
        }
        return problems;
    }

    /// <summary>
    /// The transaction: v0.28.9's tables (<c>ip flannel-ipv4</c> and the <c>ip6 flannel-ipv6</c> its Init creates) and
    /// the chains our rules need, created if missing; every copy of a retired rule and of ours deleted and ours added in
    /// order, except the shared mark rule when it is there once (it stays; missing, it is inserted first). When <paramref name="rebuild"/> is set and
    /// the table holds nothing but our rules (and the shared one), it is deleted and made again instead, so that a table
    /// made by our earlier layout gets v0.28.9's comments (nft does not add a comment to an existing table or chain). A
    /// chain that our rules do not use, that a retired rule was in and that holds nothing but the shared rule afterwards
    /// is deleted, and the table with it once no chain is left. Null when there is nothing to do.
    /// </summary>
    public static string? Build(NftRuleset table, IReadOnlyList<NftRule> desired, IReadOnlyList<NftRule> retired, bool rebuild,
        IpFamily family = IpFamily.Ip4)
    {
        string tableName = RulePolicy.NftTableOf(family);
        var wanted = desired.ToHashSet();
        var lines = new List<string>();
        if (desired.Count > 0)
        {
            bool ours = table.Exists
                && table.Chains.All(c => ChainSpecs.Any(s => s.Name == c))
                && table.Rules.All(r => wanted.Contains(r.Rule) || retired.Contains(r.Rule) || RulePolicy.IsShared(r.Rule));
            var deleted = new HashSet<long>();
            if (rebuild && ours)
            {
                lines.Add($"delete table {tableName}");
                table = NftRuleset.Missing;
            }
            // v0.28.9's Init creates both tables whatever the families; the IPv6 rules live in the second.
            lines.Add($"add table ip {RulePolicy.NftTable} {{ comment \"rules for {RulePolicy.NftTable}\" ; }}");
            lines.Add($"add table ip6 {RulePolicy.NftTable6} {{ comment \"rules for {RulePolicy.NftTable6}\" ; }}");
            foreach (var (name, spec) in ChainSpecs)
            {
                if (desired.Any(r => r.Chain == name))
                {
                    lines.Add($"add chain {tableName} {name} {{ {spec} }}");
                }
            }
            foreach (var rule in retired.Distinct())
            {
                if (!wanted.Contains(rule) && !RulePolicy.IsShared(rule))
                {
                    Delete(table, rule, lines, deleted, tableName);
                }
            }
            foreach (var rule in desired)
            {
                if (RulePolicy.IsShared(rule) && table.Count(rule) == 1)
                {
                    continue; // the mark rule serves the other networks too, where it is
                }
                Delete(table, rule, lines, deleted, tableName);
                // The mark rule must come before every network's masquerade: insert puts it first.
                lines.Add($"{(RulePolicy.IsShared(rule) ? "insert" : "add")} rule {tableName} {rule.Chain} {rule.Expr}");
            }
            return string.Join('\n', lines) + "\n";
        }

        // Nothing of ours is wanted in this mode: our rules go, and what of ours no other rule needs.
        if (!table.Exists)
        {
            return null;
        }
        var gone = new HashSet<long>();
        foreach (var rule in retired.Distinct())
        {
            if (!RulePolicy.IsShared(rule))
            {
                Delete(table, rule, lines, gone, tableName);
            }
        }
        var chainsLeft = new HashSet<string>(table.Chains, StringComparer.Ordinal);
        foreach (var (name, _) in ChainSpecs)
        {
            bool managed = retired.Any(r => r.Chain == name);
            var left = table.Rules.Where(r => r.Rule.Chain == name && !gone.Contains(r.Handle)).ToList();
            if (managed && table.Chains.Contains(name) && left.All(r => RulePolicy.IsShared(r.Rule)))
            {
                foreach (var (_, handle) in left)
                {
                    lines.Add($"delete rule {tableName} {name} handle {handle}");
                }
                lines.Add($"delete chain {tableName} {name}");
                chainsLeft.Remove(name);
            }
        }
        if (chainsLeft.Count == 0)
        {
            lines.Clear();
            lines.Add($"delete table {tableName}");
        }
        return lines.Count == 0 ? null : string.Join('\n', lines) + "\n";
    }

    private static void Delete(NftRuleset table, NftRule rule, List<string> lines, HashSet<long> deleted, string tableName)
    {
        foreach (long handle in table.Handles(rule))
        {
            if (deleted.Add(handle))
            {
                lines.Add($"delete rule {tableName} {rule.Chain} handle {handle}");
            }
        }
    }
}
