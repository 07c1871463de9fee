using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// flanneld's iptables rules read with one <c>iptables-save</c> and written with one
/// <c>iptables-restore --noflush --wait</c>: applying costs two process runs (the read done ahead, during the lease)
/// and a check one, where flanneld runs one <c>iptables -C</c> per rule.
/// </summary>
internal sealed class IptablesFilter(ProgramRunner run, RulesLock? rulesLock = null) : IPacketFilter
{
    private readonly RulesLock _lock = rulesLock ?? RulesLock.Host;
    private (IptablesDump Dump, long Generation)? _prepared;

    public string Name => "iptables";

    public void Prepare()
    {
        using var held = _lock.Acquire();
        _prepared = (Save(run), held.Generation);
    }

    public void Apply(RulePolicy policy, Ip4Network? previousNetwork, Ip4Network? previousSubnet)
    {
        var desired = policy.IptablesRules;
        var retired = policy.RetiredIptablesRules(previousNetwork, previousSubnet);
        var prepared = _prepared;
        _prepared = null;
        using var held = _lock.Acquire();
        var dump = prepared is { } p && p.Generation >= 0 && p.Generation == held.Generation ? p.Dump : null;
        Write(held, dump, d => IptablesPlan.Build(d, desired, retired));
    }

    public IReadOnlyList<string> Ensure(RulePolicy policy)
    {
        var desired = policy.IptablesRules;
        using var held = _lock.Acquire();
        var dump = Save(run);
        var problems = IptablesPlan.Problems(dump, desired);
        if (problems.Count > 0)
        {
            Write(held, dump, d => IptablesPlan.Build(d, desired, []));
        }
        return problems;
    }

    public int RemoveOther(RulePolicy policy, Ip4Network? previousNetwork, Ip4Network? previousSubnet)
    {
        try
        {
            using var held = _lock.Acquire();
            return NftablesFilter.Remove(run, held, policy.AllNftRules(previousNetwork, previousSubnet));
        }
        catch (RulesException) when (!NftablesFilter.Installed(run))
        {
            return 0; // no nft on this host: nothing of the other mode can exist
        }
    }

    /// <summary>Deletes our rules (every layout, every lease given) from iptables; the count of rules deleted.</summary>
    internal static int Remove(ProgramRunner run, RulesLock.Held held, IReadOnlyList<IptablesRule> ours)
    {
        var dump = Save(run);
        var payload = IptablesPlan.Build(dump, [], ours);
        if (payload is null)
        {
            return 0;
        }
        FilterTransaction.Run(run, ["iptables-restore", "--noflush", "--wait"], payload, "iptables-restore");
        held.Wrote();
        return payload.Split('\n').Count(l => l.StartsWith("-D ", StringComparison.Ordinal));
    }

    internal static bool Installed(ProgramRunner run)
    {
        try
        {
            run.Run(["iptables-save", "--version"]);
            return true;
        }
        catch (RulesException)
        {
            return false;
        }
    }

    private void Write(RulesLock.Held held, IptablesDump? state, Func<IptablesDump, string?> plan) =>
        FilterTransaction.Write(run, held, state, () => Save(run), plan, ["iptables-restore", "--noflush", "--wait"], "iptables-restore");

    internal static IptablesDump Save(ProgramRunner run)
    {
        var r = run.Run(["iptables-save"]);
        if (r.ExitCode != 0)
        {
            throw new RulesException($"iptables-save failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
        return IptablesDump.Parse(r.Stdout);
    }
}
