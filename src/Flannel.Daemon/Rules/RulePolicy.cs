using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// What flanneld's --ip-masq and --iptables-forward-rules ask of the host's packet filter for one Network (N) and our
/// lease subnet (S) of one family (IPv4: iptables, nft <c>ip flannel-ipv4</c>; IPv6, on a dual-stack network:
/// ip6tables, nft <c>ip6 flannel-ipv6</c>, with the same rules), in flanneld v0.28.9's layout (pkg/trafficmngr): the rule text, chain and table names, comments and
/// order are its own, so that iptables-save or nft list on a host of ours and on one of flanneld's read the same and
/// both daemons can share the chains. The chains are shared by every flannel network on the host: a policy owns its
/// rules, never a chain.
/// </summary>
internal sealed record RulePolicy(IpNetwork Network, IpNetwork Subnet, bool Masquerade, bool Forward, bool RandomFully)
{
    public const string MasqChain = "FLANNEL-POSTRTG";
    public const string ForwardChain = "FLANNEL-FWD";
    public const string MasqComment = "flanneld masq";
    public const string ForwardComment = "flanneld forward";
    public const string NftTable = "flannel-ipv4";
    public const string NftTable6 = "flannel-ipv6";
    public const string NftForwardChain = "forward";
    public const string NftMasqChain = "postrtg";

    // kube-proxy's mark: its traffic is NATed by kube-proxy, and a second masquerade breaks on some kernels.
    private const string KubeProxyMark = "0x4000/0x4000";

    public IpFamily Family => Network.Family;

    /// <summary>The nft table of a family, as <c>nft list table</c> names it: <c>ip flannel-ipv4</c> or <c>ip6 flannel-ipv6</c>.</summary>
    public static string NftTableOf(IpFamily family) => family == IpFamily.Ip6 ? $"ip6 {NftTable6}" : $"ip {NftTable}";

    // masqRules' "! -d 224.0.0.0/4", masqIP6Rules' "! -d ff00::/8": multicast is never masqueraded.
    private static string Multicast(IpFamily family) => family == IpFamily.Ip6 ? "ff00::/8" : "224.0.0.0/4";

    // nft's address match of the family: "ip saddr" or "ip6 saddr".
    private static string NftIp(IpFamily family) => family == IpFamily.Ip6 ? "ip6" : "ip";

    public static IptablesRule MasqJump { get; } = new("nat", "POSTROUTING", $"-m comment --comment \"{MasqComment}\" -j {MasqChain}");

    public static IptablesRule ForwardJump { get; } = new("filter", "FORWARD", $"-m comment --comment \"{ForwardComment}\" -j {ForwardChain}");

    public static IptablesRule MarkReturn { get; } =
        new("nat", MasqChain, $"-m mark --mark {KubeProxyMark} -m comment --comment \"{MasqComment}\" -j RETURN");

    public static NftRule NftMarkReturn { get; } = new(NftMasqChain, "meta mark 0x4000 return");

    /// <summary>
    /// Rules that every flannel network on the host writes with the same text (the jumps, the kube-proxy mark): one
    /// copy serves them all, and removing our network's rules leaves them while any other network's rule remains.
    /// </summary>
    public static bool IsShared(IptablesRule rule) => rule == MasqJump || rule == ForwardJump || rule == MarkReturn;

    public static bool IsShared(NftRule rule) => rule == NftMarkReturn;

    /// <summary>
    /// Our iptables rules in v0.28.9's order: masqRules (the POSTROUTING jump appended, then the chain's rules), then
    /// forwardRules. flanneld applies each list by deleting every rule of it that exists and appending them all.
    /// </summary>
    public IReadOnlyList<IptablesRule> IptablesRules
    {
        get
        {
            var rules = new List<IptablesRule>();
            if (Masquerade)
            {
                rules.AddRange(MasqRules(Network, Subnet, RandomFully));
            }
            if (Forward)
            {
                rules.AddRange(ForwardRules(Network));
            }
            return rules;
        }
    }

    /// <summary>Our rules in the family's table (<see cref="NftTableOf"/>) in v0.28.9's order (forward is set up after postrtg).</summary>
    public IReadOnlyList<NftRule> NftRules
    {
        get
        {
            var rules = new List<NftRule>();
            if (Masquerade)
            {
                rules.AddRange(NftMasqRules(Network, Subnet, RandomFully));
            }
            if (Forward)
            {
                rules.AddRange(NftForwardRules(Network));
            }
            return rules;
        }
    }

    /// <summary>
    /// Rules of ours that are not this policy's and go when it is applied: those of the previous lease (v0.28.9 deletes
    /// masqRules(prevNetwork, prevSubnet) when the network or the subnet changed; we also delete the previous network's
    /// forward rules), this daemon's own earlier layout (flanneld v0.20.2's, which it wrote before for the previous and
    /// the current lease) and the other --ip-masq-fully-random-disable variant. Each names our network (N, or the
    /// previous lease's) by its exact text, so no rule of another network matches. Only the kinds this policy manages
    /// (masquerade, forward) are looked at, as flanneld leaves the masquerade rules alone without --ip-masq. The result
    /// may hold shared rules and rules of the policy: the plans never delete those for being retired.
    /// </summary>
    public IReadOnlyList<IptablesRule> RetiredIptablesRules(IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        var retired = new List<IptablesRule>();
        foreach (var (network, subnet) in Leases(previousNetwork, previousSubnet))
        {
            foreach (bool fully in (bool[])[true, false])
            {
                if (Masquerade)
                {
                    retired.AddRange(MasqRules(network, subnet, fully));
                    retired.AddRange(V0202MasqRules(network, subnet, fully));
                }
            }
            if (Forward && network != Network)
            {
                retired.AddRange(ForwardRules(network));
            }
        }
        return retired.Distinct().ToList();
    }

    /// <summary>As <see cref="RetiredIptablesRules"/> for the nftables table (the earlier layout's rules read the same).</summary>
    public IReadOnlyList<NftRule> RetiredNftRules(IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        var retired = new List<NftRule>();
        foreach (var (network, subnet) in Leases(previousNetwork, previousSubnet))
        {
            foreach (bool fully in (bool[])[true, false])
            {
                if (Masquerade)
                {
                    retired.AddRange(NftMasqRules(network, subnet, fully));
                }
            }
            if (Forward && network != Network)
            {
                retired.AddRange(NftForwardRules(network));
            }
        }
        return retired.Distinct().ToList();
    }

    /// <summary>
    /// Every rule this daemon may have written for its network in either layout, for removing them from the mode it does
    /// not use (flanneld deletes the other mode's chains or tables whole, which would take another network's rules).
    /// </summary>
    public IReadOnlyList<IptablesRule> AllIptablesRules(IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        var all = new List<IptablesRule>();
        foreach (var (network, subnet) in Leases(previousNetwork, previousSubnet))
        {
            foreach (bool fully in (bool[])[true, false])
            {
                all.AddRange(MasqRules(network, subnet, fully));
                all.AddRange(V0202MasqRules(network, subnet, fully));
            }
            all.AddRange(ForwardRules(network));
        }
        return all.Distinct().ToList();
    }

    public IReadOnlyList<NftRule> AllNftRules(IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        var all = new List<NftRule>();
        foreach (var (network, subnet) in Leases(previousNetwork, previousSubnet))
        {
            foreach (bool fully in (bool[])[true, false])
            {
                all.AddRange(NftMasqRules(network, subnet, fully));
            }
            all.AddRange(NftForwardRules(network));
        }
        return all.Distinct().ToList();
    }

    /// <summary>pkg/trafficmngr/iptables masqRules(N, S) and masqIP6Rules(N, S), v0.28.9.</summary>
    public static IReadOnlyList<IptablesRule> MasqRules(IpNetwork network, IpNetwork subnet, bool randomFully)
    {
        string masq = Masq(randomFully);
        return
        [
            MasqJump,
            MarkReturn,
            Nat($"-s {subnet} -d {network} -m comment --comment \"{MasqComment}\" -j RETURN"),
            Nat($"-s {network} -d {subnet} -m comment --comment \"{MasqComment}\" -j RETURN"),
            // Traffic from outside that a host forwards to its own container keeps its source.
            Nat($"! -s {network} -d {subnet} -m comment --comment \"{MasqComment}\" -j RETURN"),
            Nat($"-s {network} ! -d {Multicast(network.Family)} -m comment --comment \"{MasqComment}\" -j {masq}"),
            Nat($"! -s {network} -d {network} -m comment --comment \"{MasqComment}\" -j {masq}"),
        ];
    }

    /// <summary>pkg/trafficmngr/iptables forwardRules(N), v0.28.9 (the same text as v0.20.2's).</summary>
    public static IReadOnlyList<IptablesRule> ForwardRules(IpNetwork network) =>
    [
        ForwardJump,
        new("filter", ForwardChain, $"-s {network} -m comment --comment \"{ForwardComment}\" -j ACCEPT"),
        new("filter", ForwardChain, $"-d {network} -m comment --comment \"{ForwardComment}\" -j ACCEPT"),
    ];

    /// <summary>
    /// flanneld v0.20.2's FLANNEL-POSTRTG rules, which this daemon wrote before it took v0.28.9's layout. Only
    /// <c>-s N -d N … RETURN</c> differs in text from v0.28.9's; the others differ in order.
    /// </summary>
    public static IReadOnlyList<IptablesRule> V0202MasqRules(IpNetwork network, IpNetwork subnet, bool randomFully)
    {
        string masq = Masq(randomFully);
        return
        [
            MasqJump,
            MarkReturn,
            Nat($"-s {network} -d {network} -m comment --comment \"{MasqComment}\" -j RETURN"),
            Nat($"-s {network} ! -d {Multicast(network.Family)} -m comment --comment \"{MasqComment}\" -j {masq}"),
            Nat($"! -s {network} -d {subnet} -m comment --comment \"{MasqComment}\" -j RETURN"),
            Nat($"! -s {network} -d {network} -m comment --comment \"{MasqComment}\" -j {masq}"),
        ];
    }

    /// <summary>pkg/trafficmngr/nftables addMasqRules(N, S) (its IPv6 half for an IPv6 N), v0.28.9.</summary>
    public static IReadOnlyList<NftRule> NftMasqRules(IpNetwork network, IpNetwork subnet, bool randomFully)
    {
        string masq = randomFully ? "masquerade fully-random" : "masquerade";
        string ip = NftIp(network.Family);
        return
        [
            NftMarkReturn,
            new(NftMasqChain, $"{ip} saddr {subnet} {ip} daddr {network} return"),
            new(NftMasqChain, $"{ip} saddr {network} {ip} daddr {subnet} return"),
            // v0.28.9 writes != S here where its iptables rule says ! -s N.
            new(NftMasqChain, $"{ip} saddr != {subnet} {ip} daddr {network} return"),
            new(NftMasqChain, $"{ip} saddr {network} {ip} daddr != {Multicast(network.Family)} {masq}"),
            new(NftMasqChain, $"{ip} saddr != {network} {ip} daddr {network} {masq}"),
        ];
    }

    public static IReadOnlyList<NftRule> NftForwardRules(IpNetwork network) =>
    [
        new(NftForwardChain, $"{NftIp(network.Family)} saddr {network} accept"),
        new(NftForwardChain, $"{NftIp(network.Family)} daddr {network} accept"),
    ];

    private static string Masq(bool randomFully) => randomFully ? "MASQUERADE --random-fully" : "MASQUERADE";

    private static IptablesRule Nat(string spec) => new("nat", MasqChain, spec);

    private IEnumerable<(IpNetwork Network, IpNetwork Subnet)> Leases(IpNetwork? previousNetwork, IpNetwork? previousSubnet)
    {
        yield return (Network, Subnet);
        if (previousNetwork is { } n && previousSubnet is { } s && (n, s) != (Network, Subnet))
        {
            yield return (n, s);
        }
    }
}
