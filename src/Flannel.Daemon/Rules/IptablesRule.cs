namespace Flannel.Daemon.Rules;

/// <summary>
/// One iptables rule: its table, its chain and its rule spec exactly as <c>iptables-save</c> prints it after
/// <c>-A CHAIN </c>, so that a rule read back compares to ours by text and can be deleted by it.
/// </summary>
internal readonly record struct IptablesRule(string Table, string Chain, string Spec)
{
    public override string ToString() => $"-t {Table} -A {Chain} {Spec}";
}
