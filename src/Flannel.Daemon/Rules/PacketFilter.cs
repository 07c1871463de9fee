namespace Flannel.Daemon.Rules;

/// <summary>One way of putting a <see cref="RulePolicy"/> into the kernel, and of reading back what is there.</summary>
public interface IPacketFilter
{
    string Name { get; }

    /// <summary>Replaces our rules with the policy's, atomically.</summary>
    /// <exception cref="RulesException">The program refused the payload.</exception>
    void Apply(RulePolicy policy);

    /// <summary>
    /// Our rules as the kernel has them now; a differing snapshot means someone deleted, added or reordered one, and
    /// the policy must be applied again.
    /// </summary>
    string Snapshot(RulePolicy policy);

    /// <summary>Removes what the other mode (iptables vs nftables) may have left, as flannel HEAD does at start.</summary>
    void RemoveOther();

    /// <summary>
    /// Reads ahead what the next <see cref="Apply"/> needs from the kernel, so that it can overlap other startup work
    /// (the etcd lease); Apply reads it again if the kernel changed in between and its payload was refused.
    /// </summary>
    void Prepare();
}

/// <summary>
/// flanneld's iptables rules through <c>iptables-restore --noflush --wait</c>, read back with one <c>iptables-save</c>:
/// applying costs two process runs and a check one, which keeps them off the startup path's critical time.
/// </summary>
public sealed class IptablesFilter(HostCommand run) : IPacketFilter
{
    public string Name => "iptables";

    private IptablesDump? _prepared;

    public void Prepare() => _prepared = Save();

    public void Apply(RulePolicy policy)
    {
        var prepared = _prepared;
        _prepared = null;
        var r = Restore(policy, prepared ?? Save());
        if (r.ExitCode != 0 && prepared is not null)
        {
            r = Restore(policy, Save()); // a jump we were to delete went meanwhile
        }
        if (r.ExitCode != 0)
        {
            throw new RulesException($"iptables-restore failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
    }

    private HostCommandResult Restore(RulePolicy policy, IptablesDump dump)
    {
        var masqJumps = policy.Masquerade ? dump.JumpsTo("nat", "POSTROUTING", RulePolicy.MasqChain) : [];
        var forwardJumps = policy.Forward ? dump.JumpsTo("filter", "FORWARD", RulePolicy.ForwardChain) : [];
        return run.Run(["iptables-restore", "--noflush", "--wait"], policy.IptablesPayload(masqJumps, forwardJumps));
    }

    public string Snapshot(RulePolicy policy)
    {
        var dump = Save();
        var parts = new List<string>();
        if (policy.Masquerade)
        {
            parts.Add(Describe(dump, "nat", RulePolicy.MasqChain));
            parts.Add("masq jumps " + dump.JumpsTo("nat", "POSTROUTING", RulePolicy.MasqChain).Count);
        }
        if (policy.Forward)
        {
            parts.Add(Describe(dump, "filter", RulePolicy.ForwardChain));
            parts.Add("forward jumps " + dump.JumpsTo("filter", "FORWARD", RulePolicy.ForwardChain).Count);
        }
        return string.Join('\n', parts);
    }

    public void RemoveOther()
    {
        try
        {
            run.Run(["nft", "delete", "table", "ip", RulePolicy.NftTable]);
        }
        catch (RulesException)
        {
            // No nft on this host: nothing of the other mode can exist.
        }
    }

    private IptablesDump Save()
    {
        var r = run.Run(["iptables-save"]);
        if (r.ExitCode != 0)
        {
            throw new RulesException($"iptables-save failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
        return IptablesDump.Parse(r.Stdout);
    }

    private static string Describe(IptablesDump dump, string table, string chain) =>
        dump.HasChain(table, chain)
            ? $"{table} {chain}:\n" + string.Join('\n', dump.Rules(table, chain))
            : $"missing chain {chain}";

    /// <summary>Splits a rule as a shell would, for the quoted comment.</summary>
    internal static List<string> Split(string rule)
    {
        var args = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in rule)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    args.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }
        if (any)
        {
            args.Add(current.ToString());
        }
        return args;
    }
}

/// <summary>flannel HEAD's nftables table through one <c>nft -f</c> transaction.</summary>
public sealed class NftablesFilter(HostCommand run) : IPacketFilter
{
    public string Name => "nftables";

    public void Prepare()
    {
        // The transaction replaces the whole table: nothing to read first.
    }

    public void Apply(RulePolicy policy)
    {
        var r = run.Run(["nft", "-f", "-"], policy.NftPayload());
        if (r.ExitCode != 0)
        {
            throw new RulesException($"nft -f failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
    }

    public string Snapshot(RulePolicy policy)
    {
        var r = run.Run(["nft", "list", "table", "ip", RulePolicy.NftTable]);
        return r.ExitCode == 0 ? r.Stdout : "missing table";
    }

    public void RemoveOther()
    {
        try
        {
            foreach (var (table, chain, jump) in new[]
                     {
                         ("nat", "POSTROUTING", RulePolicy.MasqJump),
                         ("filter", "FORWARD", RulePolicy.ForwardJump),
                     })
            {
                string own = jump.Split(' ')[^1];
                while (run.Run(["iptables", "--wait", "-t", table, "-D", chain, .. IptablesFilter.Split(jump)]).ExitCode == 0)
                {
                }
                run.Run(["iptables", "--wait", "-t", table, "-F", own]);
                run.Run(["iptables", "--wait", "-t", table, "-X", own]);
            }
        }
        catch (RulesException)
        {
            // No iptables on this host.
        }
    }
}
