using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Rules;

/// <summary>
/// One way of putting a <see cref="RulePolicy"/> of one family into the kernel (iptables / ip6tables, or the nftables
/// table of the family), and of checking it.
/// </summary>
internal interface IPacketFilter
{
    /// <summary>"iptables", "ip6tables", "nftables" or "nftables ip6", for the log.</summary>
    string Name { get; }

    /// <summary>The family whose rules it holds.</summary>
    IpFamily Family { get; }

    /// <summary>The other mode's name, whose rules of ours <see cref="RemoveOther"/> removes.</summary>
    string OtherName { get; }

    /// <summary>
    /// Reads ahead what the next <see cref="Apply"/> needs from the kernel, so that it can overlap other startup work
    /// (the etcd lease); Apply reads it again if another daemon of ours wrote in between, or if its transaction was
    /// refused.
    /// </summary>
    void Prepare();

    /// <summary>
    /// flanneld's bootstrap for our rules: every copy of them and of the <paramref name="retired"/> ones (an earlier
    /// lease's, an earlier layout's) is deleted and ours appended in order, in one transaction. Other rules stay.
    /// </summary>
    /// <exception cref="RulesException">The program refused the transaction.</exception>
    void Apply(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet);

    /// <summary>
    /// flanneld's resync: when a rule of ours is missing (or, which flanneld does not check, has copies), the bootstrap
    /// runs again. Returns what was wrong; empty when the rules were in place.
    /// </summary>
    /// <exception cref="RulesException">The rules could not be read or written.</exception>
    IReadOnlyList<string> Ensure(RulePolicy policy);

    /// <summary>
    /// Removes our network's rules from the other mode (iptables vs nftables), and a chain or table of it that nothing
    /// else uses then: flanneld deletes the other mode's chains or tables whole at start, which would take another
    /// network's rules. Returns how many rules went.
    /// </summary>
    int RemoveOther(RulePolicy policy, IpNetwork? previousNetwork, IpNetwork? previousSubnet);
}
