using Flannel.Daemon.Rules;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests.Rules;

/// <summary>Our rules for a network N and subnet S against flanneld v0.28.9's pkg/trafficmngr, text for text.</summary>
[Unit]
public class RulePolicyTests
{
    private static readonly Ip4Network N = Ip4Network.ParseCidr("10.5.0.0/16");
    private static readonly Ip4Network S = Ip4Network.ParseCidr("10.5.88.0/24");

    internal static RulePolicy Policy(bool randomFully = true) => new(N, S, Masquerade: true, Forward: true, randomFully);

    [Fact]
    public void Iptables_rules_are_v0_28_9_s_masqRules_then_forwardRules()
    {
        Assert.Equal(
        [
            "-t nat -A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
            "-t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 10.5.88.0/24 -d 10.5.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 10.5.0.0/16 -d 10.5.88.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.88.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 10.5.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            "-t nat -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            "-t filter -A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
            "-t filter -A FLANNEL-FWD -s 10.5.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
            "-t filter -A FLANNEL-FWD -d 10.5.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
        ], Policy().IptablesRules.Select(r => r.ToString()));
        Assert.EndsWith("-j MASQUERADE", Policy(randomFully: false).IptablesRules[^4].Spec, StringComparison.Ordinal);
    }

    [Fact]
    public void Nftables_rules_are_v0_28_9_s_addMasqRules_then_forward()
    {
        Assert.Equal(
        [
            "postrtg: meta mark 0x4000 return",
            "postrtg: ip saddr 10.5.88.0/24 ip daddr 10.5.0.0/16 return",
            "postrtg: ip saddr 10.5.0.0/16 ip daddr 10.5.88.0/24 return",
            "postrtg: ip saddr != 10.5.88.0/24 ip daddr 10.5.0.0/16 return",
            "postrtg: ip saddr 10.5.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
            "postrtg: ip saddr != 10.5.0.0/16 ip daddr 10.5.0.0/16 masquerade fully-random",
            "forward: ip saddr 10.5.0.0/16 accept",
            "forward: ip daddr 10.5.0.0/16 accept",
        ], Policy().NftRules.Select(r => r.ToString()));
    }

    [Fact]
    public void Only_the_kinds_asked_for_are_written()
    {
        var forwardOnly = new RulePolicy(N, S, Masquerade: false, Forward: true, RandomFully: true);
        Assert.All(forwardOnly.IptablesRules, r => Assert.Equal("filter", r.Table));
        Assert.All(forwardOnly.NftRules, r => Assert.Equal("forward", r.Chain));
        Assert.DoesNotContain(forwardOnly.RetiredIptablesRules(N, Ip4Network.ParseCidr("10.5.3.0/24")), r => r.Table == "nat");
    }

    [Fact]
    public void Retired_rules_are_the_earlier_layout_s_and_the_previous_lease_s_and_name_only_our_networks()
    {
        var prevS = Ip4Network.ParseCidr("10.5.3.0/24");
        var retired = Policy().RetiredIptablesRules(N, prevS).Select(r => r.Spec).ToList();
        // v0.20.2's only rule whose text v0.28.9 does not have.
        Assert.Contains("-s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", retired);
        // The previous lease's per-subnet rules, and the other --random-fully variant of ours.
        Assert.Contains("-s 10.5.3.0/24 -d 10.5.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", retired);
        Assert.Contains("-s 10.5.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE", retired);
        Assert.All(retired, r => Assert.True(r.Contains("10.5.", StringComparison.Ordinal) || RulePolicy.IsShared(new IptablesRule("nat", RulePolicy.MasqChain, r))
            || r == RulePolicy.MasqJump.Spec, r));

        // A previous run for another network: its forward rules go too, as the network is ours.
        var other = Policy().RetiredIptablesRules(Ip4Network.ParseCidr("10.9.0.0/16"), Ip4Network.ParseCidr("10.9.3.0/24"));
        Assert.Contains(new IptablesRule("filter", RulePolicy.ForwardChain, "-s 10.9.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT"), other);
        Assert.Contains(Policy().RetiredNftRules(N, prevS), r => r.Expr == "ip saddr 10.5.3.0/24 ip daddr 10.5.0.0/16 return");
    }

    [Fact]
    public void Ipv6_rules_are_v0_28_9_s_masqIP6Rules_and_the_ip6_table_s()
    {
        var n6 = Ip6Network.ParseCidr("2001:db8:5::/48");
        var s6 = Ip6Network.ParseCidr("2001:db8:5:58::/64");
        var v6 = new RulePolicy(n6, s6, Masquerade: true, Forward: true, RandomFully: true);
        Assert.Equal(IpFamily.Ip6, v6.Family);
        Assert.Equal(
        [
            "-t nat -A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
            "-t nat -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 2001:db8:5:58::/64 -d 2001:db8:5::/48 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 2001:db8:5::/48 -d 2001:db8:5:58::/64 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG ! -s 2001:db8:5::/48 -d 2001:db8:5:58::/64 -m comment --comment \"flanneld masq\" -j RETURN",
            "-t nat -A FLANNEL-POSTRTG -s 2001:db8:5::/48 ! -d ff00::/8 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            "-t nat -A FLANNEL-POSTRTG ! -s 2001:db8:5::/48 -d 2001:db8:5::/48 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            "-t filter -A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
            "-t filter -A FLANNEL-FWD -s 2001:db8:5::/48 -m comment --comment \"flanneld forward\" -j ACCEPT",
            "-t filter -A FLANNEL-FWD -d 2001:db8:5::/48 -m comment --comment \"flanneld forward\" -j ACCEPT",
        ], v6.IptablesRules.Select(r => r.ToString()));
        Assert.Equal(
        [
            "postrtg: meta mark 0x4000 return",
            "postrtg: ip6 saddr 2001:db8:5:58::/64 ip6 daddr 2001:db8:5::/48 return",
            "postrtg: ip6 saddr 2001:db8:5::/48 ip6 daddr 2001:db8:5:58::/64 return",
            "postrtg: ip6 saddr != 2001:db8:5:58::/64 ip6 daddr 2001:db8:5::/48 return",
            "postrtg: ip6 saddr 2001:db8:5::/48 ip6 daddr != ff00::/8 masquerade fully-random",
            "postrtg: ip6 saddr != 2001:db8:5::/48 ip6 daddr 2001:db8:5::/48 masquerade fully-random",
            "forward: ip6 saddr 2001:db8:5::/48 accept",
            "forward: ip6 daddr 2001:db8:5::/48 accept",
        ], v6.NftRules.Select(r => r.ToString()));
        Assert.Equal("ip6 flannel-ipv6", RulePolicy.NftTableOf(IpFamily.Ip6));
        Assert.Equal("ip flannel-ipv4", RulePolicy.NftTableOf(IpFamily.Ip4));
    }
}
