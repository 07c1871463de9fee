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
}

/// <summary>flanneld's iptables rules through <c>iptables-restore --noflush --wait</c>.</summary>
public sealed class IptablesFilter(HostCommand run) : IPacketFilter
{
    public string Name => "iptables";

    public void Apply(RulePolicy policy)
    {
        bool masqJump = policy.Masquerade && Exists("nat", "POSTROUTING", RulePolicy.MasqJump);
        bool forwardJump = policy.Forward && Exists("filter", "FORWARD", RulePolicy.ForwardJump);
        var r = run.Run(["iptables-restore", "--noflush", "--wait"], policy.IptablesPayload(masqJump, forwardJump));
        if (r.ExitCode != 0)
        {
            throw new RulesException($"iptables-restore failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
        }
    }

    public string Snapshot(RulePolicy policy)
    {
        var parts = new List<string>();
        if (policy.Masquerade)
        {
            parts.Add(List("nat", RulePolicy.MasqChain));
            parts.Add("masq jump " + Exists("nat", "POSTROUTING", RulePolicy.MasqJump));
        }
        if (policy.Forward)
        {
            parts.Add(List("filter", RulePolicy.ForwardChain));
            parts.Add("forward jump " + Exists("filter", "FORWARD", RulePolicy.ForwardJump));
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

    private string List(string table, string chain)
    {
        var r = run.Run(["iptables", "--wait", "-t", table, "-S", chain]);
        return r.ExitCode == 0 ? r.Stdout : $"missing chain {chain}";
    }

    private bool Exists(string table, string chain, string rule) =>
        run.Run(["iptables", "--wait", "-t", table, "-C", chain, .. Split(rule)]).ExitCode == 0;

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
