using Flannel.Daemon.Rules;
using Flannel.Subnet.Ip;
using Flannel.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Daemon.Tests.Rules;

/// <summary>
/// flanneld's masquerade and forward rules applied with the host's iptables-restore and nft inside a test namespace
/// (root), then damaged the ways an operator or another daemon does, and put back.
/// </summary>
public sealed class TrafficRulesTests
{
    private static readonly Ip4Network Network = Ip4Network.ParseCidr("10.5.0.0/16");
    private static readonly Ip4Network Subnet = Ip4Network.ParseCidr("10.5.88.0/24");

    private static HostCommand In(NetNs ns) => new(["ip", "netns", "exec", ns.Name]);

    private static TrafficRules Rules(IPacketFilter filter) =>
        new(filter, TimeSpan.FromSeconds(5), masquerade: true, forward: true, randomFully: true, NullLogger.Instance);

    [Fact]
    public void Iptables_rules_are_flanneld_s_in_order_and_come_back_when_deleted_or_reordered()
    {
        using var ns = NetNs.Create();
        var rules = Rules(new IptablesFilter(In(ns)));
        rules.Apply(Network, Subnet);

        string nat = ns.Exec("iptables", "-t", "nat", "-S");
        Assert.Contains("""
            -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
            -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG -s 10.5.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.88.0/24 -m comment --comment "flanneld masq" -j RETURN
            -A FLANNEL-POSTRTG ! -s 10.5.0.0/16 -d 10.5.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
            """.Replace("\r", "", StringComparison.Ordinal), nat, StringComparison.Ordinal);
        string filter = ns.Exec("iptables", "-t", "filter", "-S");
        Assert.Contains("""
            -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
            -A FLANNEL-FWD -s 10.5.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
            -A FLANNEL-FWD -d 10.5.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
            """, filter, StringComparison.Ordinal);
        Assert.False(rules.Check(), "nothing changed yet");

        // Deleted rule and deleted jump.
        ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "3");
        ns.Exec("iptables", "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD");
        Assert.True(rules.Check());
        Assert.Equal(nat, ns.Exec("iptables", "-t", "nat", "-S"));
        Assert.Equal(filter, ns.Exec("iptables", "-t", "filter", "-S"));

        // Reordered: the last rule moved to the top.
        ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "5");
        ns.Exec("iptables", "-t", "nat", "-I", "FLANNEL-POSTRTG", "1", "!", "-s", "10.5.0.0/16", "-d", "10.5.0.0/16", "-m", "comment",
            "--comment", "flanneld masq", "-j", "MASQUERADE", "--random-fully");
        Assert.True(rules.Check());
        Assert.Equal(nat, ns.Exec("iptables", "-t", "nat", "-S"));
        Assert.False(rules.Check());
    }

    [Fact]
    public async Task Forward_rules_are_applied_before_the_lease_is_known_and_masquerade_rules_only_after()
    {
        using var ns = NetNs.Create();
        var forwardOnly = new TrafficRules(new IptablesFilter(In(ns)), TimeSpan.FromSeconds(5), masquerade: false, forward: true,
            randomFully: true, NullLogger.Instance);
        await forwardOnly.PrepareAsync(Network);
        string filter = ns.Exec("iptables", "-t", "filter", "-S");
        Assert.Contains("-A FLANNEL-FWD -s 10.5.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT", filter, StringComparison.Ordinal);
        forwardOnly.Apply(Network, Subnet); // already in place: nothing applied twice
        Assert.Equal(filter, ns.Exec("iptables", "-t", "filter", "-S"));
        Assert.False(forwardOnly.Check());

        using var ns2 = NetNs.Create();
        var withMasq = Rules(new IptablesFilter(In(ns2)));
        await withMasq.PrepareAsync(Network);
        Assert.DoesNotContain("FLANNEL", ns2.Exec("iptables", "-t", "nat", "-S") + ns2.Exec("iptables", "-t", "filter", "-S"), StringComparison.Ordinal);
        withMasq.Apply(Network, Subnet);
        Assert.Contains("-d 10.5.88.0/24", ns2.Exec("iptables", "-t", "nat", "-S"), StringComparison.Ordinal);
        Assert.Single(ns2.Exec("iptables", "-t", "filter", "-S").Split('\n'), l => l.StartsWith("-A FORWARD", StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_of_a_previous_network_and_subnet_are_replaced_and_no_duplicate_jumps_pile_up()
    {
        using var ns = NetNs.Create();
        Rules(new IptablesFilter(In(ns))).Apply(Ip4Network.ParseCidr("10.9.0.0/16"), Ip4Network.ParseCidr("10.9.3.0/24"));
        // A restart with another network: a new TrafficRules, as after a daemon restart.
        var rules = Rules(new IptablesFilter(In(ns)));
        rules.Apply(Network, Subnet);
        rules.Apply(Network, Subnet);
        string nat = ns.Exec("iptables", "-t", "nat", "-S");
        Assert.DoesNotContain("10.9.", nat, StringComparison.Ordinal);
        Assert.Single(nat.Split('\n'), l => l.StartsWith("-A POSTROUTING", StringComparison.Ordinal));
        Assert.Single(ns.Exec("iptables", "-t", "filter", "-S").Split('\n'), l => l.StartsWith("-A FORWARD", StringComparison.Ordinal));
    }

    [Fact]
    public void Nftables_mode_is_one_table_applied_in_one_transaction_and_restored()
    {
        using var ns = NetNs.Create();
        // A host switched from iptables mode: the other mode's chains go.
        Rules(new IptablesFilter(In(ns))).Apply(Network, Subnet);
        var rules = Rules(new NftablesFilter(In(ns)));
        rules.Apply(Network, Subnet);
        rules.RemoveOtherMode(); // RunAsync does this after READY

        string table = ns.Exec("nft", "list", "table", "ip", "flannel-ipv4");
        foreach (var expected in new[]
                 {
                     "type filter hook forward priority filter; policy accept;",
                     "ip saddr 10.5.0.0/16 accept",
                     "ip daddr 10.5.0.0/16 accept",
                     "type nat hook postrouting priority srcnat; policy accept;",
                     "meta mark 0x00004000 return",
                     "ip saddr 10.5.88.0/24 ip daddr 10.5.0.0/16 return",
                     "ip saddr 10.5.0.0/16 ip daddr 10.5.88.0/24 return",
                     "ip saddr != 10.5.88.0/24 ip daddr 10.5.0.0/16 return",
                     "ip saddr 10.5.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
                     "ip saddr != 10.5.0.0/16 ip daddr 10.5.0.0/16 masquerade fully-random",
                 })
        {
            Assert.Contains(expected, table, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("FLANNEL", ns.Exec("iptables", "-t", "nat", "-S"), StringComparison.Ordinal);
        Assert.DoesNotContain("FLANNEL", ns.Exec("iptables", "-t", "filter", "-S"), StringComparison.Ordinal);

        ns.Exec("nft", "flush", "chain", "ip", "flannel-ipv4", "postrtg");
        Assert.True(rules.Check());
        Assert.Equal(table, ns.Exec("nft", "list", "table", "ip", "flannel-ipv4"));
        Assert.False(rules.Check());
    }
}
