using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// flanneld's iptables rules read with one <c>iptables-save</c> and written with one
/// <c>iptables-restore --noflush --wait</c> (ip6tables for the IPv6 rules of a dual-stack network): applying costs two
/// process runs (the read done ahead, during the lease) and a check one, where flanneld runs one <c>iptables -C</c> per
/// rule.
/// </summary>
internal sealed class IptablesFilter(ProgramRunner run, IpFamily family = IpFamily.Ip4, RulesLock? rulesLock = null) : IPacketFilter
{
    private readonly RulesLock _lock = rulesLock ?? RulesLock.Host;
    private (IptablesDump Dump, long Generation)? _prepared;

    public string Name => Program(family);

    public IpFamily Family => family;

    public string OtherName => family == IpFamily.Ip6 ? "nftables ip6" : "nftables";

    /// <summary>iptables or ip6tables.</summary>
    internal static string Program(IpFamily family) => family == IpFamily.Ip6 ? "ip6tables" : "iptables";

    public void Prepare()
    {
        using var held = _lock.Acquire();
        _prepared = (Save(run, family), held.Generation);
    }

    public void Apply(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet)
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
        var dump = Save(run, family);
        var problems = IptablesPlan.Problems(dump, desired);
        if (problems.Count > 0)
        {
            Write(held, dump, d => IptablesPlan.Build(d, desired, []));
        }
        return problems;
    }

    public int RemoveOther(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        try
        {
            using var held = _lock.Acquire();
            return NftablesFilter.Remove(run, held, policy.AllNftRules(previousNetwork, previousSubnet), family);
        }
        catch (RulesException) when (!NftablesFilter.Installed(run))
        {
            return 0; // no nft on this host: nothing of the other mode can exist
        }
    }

    /// <summary>Deletes our rules (every layout, every lease given) from iptables; the count of rules deleted.</summary>
    internal static int Remove(ProgramRunner run, RulesLock.Held held, IReadOnlyList<IptablesRule> ours, IpFamily family)
    {
        var dump = Save(run, family);
        var payload = IptablesPlan.Build(dump, [], ours);
        if (payload is null)
        {
            return 0;
        }
        FilterTransaction.Run(run, [Program(family) + "-restore", "--noflush", "--wait"], payload, Program(family) + "-restore");
        held.Wrote();
        return payload.Split('\n').Count(l => l.StartsWith("-D ", StringComparison.Ordinal));
    }

    internal static bool Installed(ProgramRunner run, IpFamily family)
    {
        try
        {
            run.Run([Program(family) + "-save", "--version"]);
            return true;
        }
        catch (RulesException)
        {
            return false;
        }
    }

    private void Write(RulesLock.Held held, IptablesDump? state, Func<IptablesDump, string?> plan) =>
        FilterTransaction.Write(run, held, state, () => Save(run, family), plan, [Program(family) + "-restore", "--noflush", "--wait"],
            Program(family) + "-restore");

    internal static IptablesDump Save(ProgramRunner run, IpFamily family = IpFamily.Ip4)
    {
        string save = Program(family) + "-save";
        var r = run.Run([save]);
        if (r.ExitCode != 0)
        {
            throw new RulesException($"{save} failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
        return IptablesDump.Parse(r.Stdout);
    }
}
