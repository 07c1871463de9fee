namespace Flannel.Daemon.Rules;

/// <summary>
/// The parts of one <c>iptables-save</c> output we look at: which chains each table declares and the rules of a chain
/// in order, each as saved after <c>-A CHAIN </c> (iptables-save prints rules in the form iptables-restore reads
/// back, so a saved rule can be deleted by its text even when it differs from ours, e.g. a jump someone duplicated).
/// One process run reads every table, where one <c>iptables -S/-C</c> per chain and rule cost a run each.
/// </summary>
internal sealed class IptablesDump
{
    private readonly Dictionary<string, HashSet<string>> _chains = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Table, string Chain), List<string>> _rules = [];

    private IptablesDump() { }

    public static IptablesDump Parse(string save)
    {
        var dump = new IptablesDump();
        string? table = null;
        foreach (var raw in save.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith('*'))
            {
                table = line[1..];
                dump._chains.TryAdd(table, new HashSet<string>(StringComparer.Ordinal));
            }
            else if (table is null || line.Length == 0 || line.StartsWith('#') || line == "COMMIT")
            {
                continue;
            }
            else if (line.StartsWith(':'))
            {
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                dump._chains[table].Add(space < 0 ? line[1..] : line[1..space]);
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                int space = line.IndexOf(' ', 3);
                if (space < 0)
                {
                    continue;
                }
                var key = (table, line[3..space]);
                if (!dump._rules.TryGetValue(key, out var list))
                {
                    dump._rules[key] = list = [];
                }
                list.Add(line[(space + 1)..]);
            }
        }
        return dump;
    }

    public bool HasChain(string table, string chain) => _chains.TryGetValue(table, out var c) && c.Contains(chain);

    public IReadOnlyList<string> Rules(string table, string chain) =>
        _rules.TryGetValue((table, chain), out var list) ? list : [];

    /// <summary>The rules of <paramref name="chain"/> that jump to <paramref name="target"/>.</summary>
    public List<string> JumpsTo(string table, string chain, string target)
    {
        var jumps = new List<string>();
        foreach (var rule in Rules(table, chain))
        {
            if (rule.EndsWith(" -j " + target, StringComparison.Ordinal) || rule == "-j " + target)
            {
                jumps.Add(rule);
            }
        }
        return jumps;
    }
}
