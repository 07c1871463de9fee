namespace Flannel.Daemon.Rules;

/// <summary>
/// Decides, from one <c>iptables-save</c>, what an <c>iptables-restore --noflush</c> transaction must do so that our
/// rules are in place and nothing else is touched (pure: no process is run here). Chains are shared by every flannel
/// network on the host (flanneld's and ours), so a rule is ours by its exact text and a chain is never flushed.
/// </summary>
internal static class IptablesPlan
{
    // Our chains, the built-in chain that jumps to each, and the jump and the rules every network shares in it.
    private static readonly (string Table, string Chain, IptablesRule Jump, IptablesRule[] SharedInChain)[] Chains =
    [
        ("nat", RulePolicy.MasqChain, RulePolicy.MasqJump, [RulePolicy.MarkReturn]),
        ("filter", RulePolicy.ForwardChain, RulePolicy.ForwardJump, []),
    ];

    /// <summary>
    /// What is wrong with our rules (v0.28.9's resync check: each rule exists, and its chain), plus copies beyond the
    /// first, which flanneld does not look for: empty when they are in place. Order is not checked, as flanneld does
    /// not: the other networks' rules sit among ours.
    /// </summary>
    public static List<string> Problems(IptablesDump dump, IReadOnlyList<IptablesRule> desired)
    {
        var problems = new List<string>();
        foreach (var rule in desired.Distinct())
        {
            int copies = dump.Rules(rule.Table, rule.Chain).Count(r => r == rule.Spec);
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
    /// flanneld's bootstrap (ipTablesCleanAndBuild), for every rule in order: each copy that exists is deleted, then
    /// the rule is appended; so our rules end up in v0.28.9's order after any other network's. A shared rule (a jump,
    /// the mark rule) found once stays where it is, as it serves the other networks too; the mark rule, when missing, is
    /// inserted first rather than appended, so that it comes before every network's MASQUERADE. Before that, every copy
    /// of a retired rule goes (shared rules and this policy's rules excepted). A chain of ours that the desired rules do
    /// not use, that a retired rule was in and that holds nothing but shared rules afterwards is deleted with its jump.
    /// Null when there is nothing to do.
    /// </summary>
    public static string? Build(IptablesDump dump, IReadOnlyList<IptablesRule> desired, IReadOnlyList<IptablesRule> retired)
    {
        var model = new Dictionary<(string, string), List<string>>();
        List<string> Chain(string table, string chain)
        {
            if (!model.TryGetValue((table, chain), out var list))
            {
                model[(table, chain)] = list = [.. dump.Rules(table, chain)];
            }
            return list;
        }
        var lines = new Dictionary<string, List<string>>(StringComparer.Ordinal) { ["nat"] = [], ["filter"] = [] };
        void DeleteAll(IptablesRule rule)
        {
            var chain = Chain(rule.Table, rule.Chain);
            while (chain.Remove(rule.Spec))
            {
                lines[rule.Table].Add($"-D {rule.Chain} {rule.Spec}");
            }
        }

        // A missing chain is created with -N, which fails if someone created it meanwhile (declaring it with :CHAIN
        // would flush another network's rules); the transaction is then read and planned again.
        foreach (var (table, chain, _, _) in Chains)
        {
            if (desired.Any(r => r.Table == table && r.Chain == chain) && !dump.HasChain(table, chain))
            {
                lines[table].Add($"-N {chain}");
            }
        }

        var wanted = desired.ToHashSet();
        foreach (var rule in retired.Distinct())
        {
            if (!wanted.Contains(rule) && !RulePolicy.IsShared(rule))
            {
                DeleteAll(rule);
            }
        }
        foreach (var rule in desired)
        {
            var chain = Chain(rule.Table, rule.Chain);
            if (RulePolicy.IsShared(rule) && chain.Count(r => r == rule.Spec) == 1)
            {
                continue; // another network's as much as ours: where it is, it serves them too
            }
            DeleteAll(rule);
            if (rule == RulePolicy.MarkReturn && chain.Count > 0)
            {
                // It must come before every network's MASQUERADE; flanneld appends it, which on its own is the same.
                chain.Insert(0, rule.Spec);
                lines[rule.Table].Add($"-I {rule.Chain} 1 {rule.Spec}");
            }
            else
            {
                chain.Add(rule.Spec);
                lines[rule.Table].Add($"-A {rule.Chain} {rule.Spec}");
            }
        }

        foreach (var (table, chain, jump, shared) in Chains)
        {
            bool used = desired.Any(r => r.Table == table && (r.Chain == chain || r == jump));
            bool managed = retired.Any(r => r.Table == table && r.Chain == chain);
            if (used || !managed || !dump.HasChain(table, chain) || Chain(table, chain).Any(r => !shared.Any(s => s.Spec == r)))
            {
                continue;
            }
            foreach (var rule in shared)
            {
                DeleteAll(rule);
            }
            DeleteAll(jump);
            lines[table].Add($"-X {chain}");
        }

        var payload = new System.Text.StringBuilder();
        foreach (var (table, tableLines) in lines)
        {
            if (tableLines.Count > 0)
            {
                payload.Append('*').Append(table).Append('\n');
                foreach (var line in tableLines)
                {
                    payload.Append(line).Append('\n');
                }
                payload.Append("COMMIT\n");
            }
        }
        return payload.Length == 0 ? null : payload.ToString();
    }
}
