using Flannel.Daemon.Cli;

namespace Flannel.Daemon.Tests;

/// <summary>
/// <c>flanneld --help</c> and the README's flag table say the same thing: the same groups, every flag of a group in
/// its README row, and each flag's environment variable in the help.
/// </summary>
[Unit]
public class HelpReadmeAgreementTests
{
    [Fact]
    public void Every_help_group_is_a_readme_row_listing_each_of_its_flags()
    {
        var flags = new DaemonFlags();
        string help = HelpText.Render(flags);
        var rows = File.ReadAllLines(Path.Combine(Repo.Root, "README.md"))
            .SkipWhile(l => l != "### Flags")
            .TakeWhile(l => !l.StartsWith("Differences from flanneld", StringComparison.Ordinal))
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| group", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .ToDictionary(cells => cells[1], cells => cells[2], StringComparer.Ordinal);
        var groups = flags.Set.Flags.GroupBy(f => f.Group).ToList();
        Assert.Equal(groups.Count, rows.Count);
        foreach (var group in groups)
        {
            // the help's group heading, e.g. "kubernetes (not supported):", starts with the README row's name
            string row = Assert.Single(rows.Keys, k => group.Key.StartsWith(k, StringComparison.Ordinal));
            Assert.Contains(group.Key + ":", help, StringComparison.Ordinal);
            foreach (var f in group)
            {
                string name = f.Name.Length == 1 ? "-" + f.Name : "--" + f.Name;
                Assert.True(rows[row].Contains("`" + name, StringComparison.Ordinal), $"README row '{row}' lacks {name}");
                Assert.Contains("env " + flags.Set.EnvName(f.Name), help, StringComparison.Ordinal);
            }
        }
    }
}
