using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// flanneld v0.28.9's nftables table (<c>"EnableNFTables": true</c>) read with one <c>nft -j list table</c> and written
/// with one <c>nft -f</c> transaction; the IPv6 rules of a dual-stack network in <c>ip6 flannel-ipv6</c>. v0.28.9
/// itself never checks its nftables rules again; we do, as in iptables mode.
/// </summary>
internal sealed class NftablesFilter(ProgramRunner run, IpFamily family = IpFamily.Ip4, RulesLock? rulesLock = null) : IPacketFilter
{
    private readonly RulesLock _lock = rulesLock ?? RulesLock.Host;
    private (NftRuleset Table, long Generation)? _prepared;

    public string Name => family == IpFamily.Ip6 ? "nftables ip6" : "nftables";

    public IpFamily Family => family;

    public string OtherName => IptablesFilter.Program(family);

    public void Prepare()
    {
        using var held = _lock.Acquire();
        _prepared = (List(run, family), held.Generation);
    }

    public void Apply(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        var desired = policy.NftRules;
        var retired = policy.RetiredNftRules(previousNetwork, previousSubnet);
        var prepared = _prepared;
        _prepared = null;
        using var held = _lock.Acquire();
        var table = prepared is { } p && p.Generation >= 0 && p.Generation == held.Generation ? p.Table : null;
        Write(held, table, t => NftPlan.Build(t, desired, retired, rebuild: true, family));
    }

    public IReadOnlyList<string> Ensure(RulePolicy policy)
    {
        var desired = policy.NftRules;
        using var held = _lock.Acquire();
        var table = List(run, family);
        var problems = NftPlan.Problems(table, desired);
        if (problems.Count > 0)
        {
            Write(held, table, t => NftPlan.Build(t, desired, [], rebuild: false, family));
        }
        return problems;
    }

    public int RemoveOther(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        try
        {
            using var held = _lock.Acquire();
            return IptablesFilter.Remove(run, held, policy.AllIptablesRules(previousNetwork, previousSubnet), family);
        }
        catch (RulesException) when (!IptablesFilter.Installed(run, family))
        {
            return 0; // no iptables on this host
        }
    }

    /// <summary>Deletes our rules from the nftables table; the count of rule deletions planned.</summary>
    internal static int Remove(ProgramRunner run, RulesLock.Held held, IReadOnlyList<NftRule> ours, IpFamily family)
    {
        var table = List(run, family);
        var payload = NftPlan.Build(table, [], ours, rebuild: false, family);
        int removed = 0;
        bool tableGone = !table.Exists;
        if (payload is not null)
        {
            tableGone = payload.StartsWith("delete table", StringComparison.Ordinal);
            removed = tableGone
                ? table.Rules.Count
                : payload.Split('\n').Count(l => l.StartsWith("delete rule ", StringComparison.Ordinal));
            FilterTransaction.Run(run, ["nft", "-f", "-"], payload, "nft -f");
            held.Wrote();
        }
        if (tableGone && family == IpFamily.Ip4)
        {
            DeleteEmptyTable6(run);
        }
        return removed;
    }

    internal static bool Installed(ProgramRunner run)
    {
        try
        {
            run.Run(["nft", "--version"]);
            return true;
        }
        catch (RulesException)
        {
            return false;
        }
    }

    // v0.28.9's Init creates ip6 flannel-ipv6 even without IPv6; once no flannel table of ip is left, an empty one goes.
    private static void DeleteEmptyTable6(ProgramRunner run)
    {
        var r = run.Run(["nft", "-j", "list", "table", "ip6", RulePolicy.NftTable6]);
        if (r.ExitCode == 0 && NftRuleset.Parse(r.Stdout) is { Chains.Count: 0, Rules.Count: 0 })
        {
            run.Run(["nft", "delete", "table", "ip6", RulePolicy.NftTable6]);
        }
    }

    private void Write(RulesLock.Held held, NftRuleset? state, Func<NftRuleset, string?> plan) =>
        FilterTransaction.Write(run, held, state, () => List(run, family), plan, ["nft", "-f", "-"], "nft -f");

    internal static NftRuleset List(ProgramRunner run, IpFamily family = IpFamily.Ip4)
    {
        var r = run.Run(["nft", "-j", "list", "table", .. RulePolicy.NftTableOf(family).Split(' ')]);
        if (r.ExitCode == 0)
        {
            return NftRuleset.Parse(r.Stdout);
        }
        // nft says "No such file or directory" for a table that does not exist.
        if (r.Stderr.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return NftRuleset.Missing;
        }
        throw new RulesException($"nft list table failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
    }
}
