namespace Flannel.Daemon.Cli;

/// <summary>The flag handling every one-shot command (lease, status, migrate-v2) shares.</summary>
internal static class CommandFlags
{
    public const int BadFlags = 2;

    /// <summary>
    /// Parses <paramref name="args"/>. On --help: the usage, each flag with its default, then <paramref name="trailer"/>
    /// (exit 0). On a bad flag or a positional argument: the problem and the usage (exit 2).
    /// </summary>
    /// <returns>Null when the command should run, else its exit status.</returns>
    public static int? Parse(FlagSet flags, IReadOnlyList<string> args, TextWriter stderr, string usage, string? trailer = null)
    {
        try
        {
            flags.Parse(args);
        }
        catch (FlagException e)
        {
            if (!e.IsHelp)
            {
                stderr.WriteLine(e.Message);
                stderr.WriteLine(usage);
                return BadFlags;
            }
            stderr.WriteLine(usage);
            foreach (var f in flags.Flags)
            {
                string def = f.DefaultText.Length == 0 ? "" : $" (default {f.DefaultText})";
                stderr.WriteLine($"  --{f.Name}{(f.IsBool ? "" : " value")}    {f.Help}{def}");
            }
            if (trailer is not null)
            {
                stderr.WriteLine(trailer);
            }
            return 0;
        }
        if (flags.Positional.Count > 0)
        {
            stderr.WriteLine($"error: unexpected argument: {flags.Positional[0]}");
            stderr.WriteLine(usage);
            return BadFlags;
        }
        return null;
    }
}
