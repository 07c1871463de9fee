using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// What flanneld's --ip-masq and --iptables-forward-rules ask of the host's packet filter for one Network (N) and our
/// lease subnet (S), compat §9. The iptables form is v0.20.2's (a fleet can switch hosts from flanneld 0.20 without two
/// rule sets); the nftables form is flannel HEAD's (<c>"EnableNFTables": true</c>).
/// </summary>
public sealed record RulePolicy(Ip4Network Network, Ip4Network Subnet, bool Masquerade, bool Forward, bool RandomFully)
{
    public const string MasqChain = "FLANNEL-POSTRTG";
    public const string ForwardChain = "FLANNEL-FWD";
    public const string MasqComment = "flanneld masq";
    public const string ForwardComment = "flanneld forward";
    public const string NftTable = "flannel-ipv4";

    private string Masq => RandomFully ? "MASQUERADE --random-fully" : "MASQUERADE";

    /// <summary>The rules of FLANNEL-POSTRTG in order (v0.20.2).</summary>
    public IReadOnlyList<string> MasqRules =>
    [
        $"-m mark --mark 0x4000/0x4000 -m comment --comment \"{MasqComment}\" -j RETURN", // kube-proxy's mark
        $"-s {Network} -d {Network} -m comment --comment \"{MasqComment}\" -j RETURN",
        $"-s {Network} ! -d 224.0.0.0/4 -m comment --comment \"{MasqComment}\" -j {Masq}",
        $"! -s {Network} -d {Subnet} -m comment --comment \"{MasqComment}\" -j RETURN",
        $"! -s {Network} -d {Network} -m comment --comment \"{MasqComment}\" -j {Masq}",
    ];

    public IReadOnlyList<string> ForwardRules =>
    [
        $"-s {Network} -m comment --comment \"{ForwardComment}\" -j ACCEPT",
        $"-d {Network} -m comment --comment \"{ForwardComment}\" -j ACCEPT",
    ];

    public static string MasqJump => $"-m comment --comment \"{MasqComment}\" -j {MasqChain}";

    public static string ForwardJump => $"-m comment --comment \"{ForwardComment}\" -j {ForwardChain}";

    /// <summary>
    /// The iptables-restore --noflush payload: declaring our chains flushes and refills them (so rules of a previous
    /// Network or subnet go), and every jump to them found in the kernel (<paramref name="masqJumps"/>,
    /// <paramref name="forwardJumps"/>: rules as iptables-save prints them) is deleted and one inserted at the top.
    /// </summary>
    public string IptablesPayload(IReadOnlyList<string> masqJumps, IReadOnlyList<string> forwardJumps)
    {
        var p = new System.Text.StringBuilder();
        if (Masquerade)
        {
            p.Append("*nat\n").Append($":{MasqChain} - [0:0]\n");
            foreach (var r in MasqRules)
            {
                p.Append($"-A {MasqChain} {r}\n");
            }
            foreach (var jump in masqJumps)
            {
                p.Append($"-D POSTROUTING {jump}\n");
            }
            p.Append($"-I POSTROUTING 1 {MasqJump}\n").Append("COMMIT\n");
        }
        if (Forward)
        {
            p.Append("*filter\n").Append($":{ForwardChain} - [0:0]\n");
            foreach (var r in ForwardRules)
            {
                p.Append($"-A {ForwardChain} {r}\n");
            }
            foreach (var jump in forwardJumps)
            {
                p.Append($"-D FORWARD {jump}\n");
            }
            p.Append($"-I FORWARD 1 {ForwardJump}\n").Append("COMMIT\n");
        }
        return p.ToString();
    }

    /// <summary>One `nft -f` transaction that replaces the whole table (flannel HEAD's nftables layout).</summary>
    public string NftPayload()
    {
        string fully = RandomFully ? " fully-random" : "";
        var p = new System.Text.StringBuilder();
        p.Append($"add table ip {NftTable}\ndelete table ip {NftTable}\ntable ip {NftTable} {{\n");
        if (Forward)
        {
            p.Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n")
             .Append($"    ip saddr {Network} accept\n    ip daddr {Network} accept\n  }}\n");
        }
        if (Masquerade)
        {
            p.Append("  chain postrtg {\n    type nat hook postrouting priority srcnat; policy accept;\n")
             .Append("    meta mark 0x4000 return\n")
             .Append($"    ip saddr {Subnet} ip daddr {Network} return\n")
             .Append($"    ip saddr {Network} ip daddr {Subnet} return\n")
             .Append($"    ip saddr != {Subnet} ip daddr {Network} return\n")
             .Append($"    ip saddr {Network} ip daddr != 224.0.0.0/4 masquerade{fully}\n")
             .Append($"    ip saddr != {Network} ip daddr {Network} masquerade{fully}\n  }}\n");
        }
        p.Append("}\n");
        return p.ToString();
    }
}
