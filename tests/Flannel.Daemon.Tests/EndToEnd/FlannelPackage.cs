namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The flannel-cs Debian package as the operator gets it: built by scripts/package-deb.sh from the published native
/// flanneld ($FLANNELD_BINARY; the script refuses the app host, which needs the .NET runtime), installed on a host
/// with <c>apt install ./flannel-cs_*.deb</c>.
/// </summary>
internal static class FlannelPackage
{
    public static string Script => Path.Combine(Repo.Root, "scripts", "package-deb.sh");

    private static readonly Lazy<string> Built = new(BuildOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The .deb, built on first use (about 15 s) into a directory of its own that goes when the test process exits;
    /// every test of the run installs the same package.
    /// </summary>
    public static string Deb => Built.Value;

    private static string BuildOnce()
    {
        string dir = Directory.CreateTempSubdirectory("flannel-cs-test-deb-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        var r = Command.TryRun(Script, [dir], new Dictionary<string, string?> { ["FLANNELD_BINARY"] = FlanneldBinary.Path },
            timeout: TimeSpan.FromMinutes(5));
        string deb = r.Stdout.Trim().Split('\n')[^1].Trim();
        return r.ExitCode == 0 && deb.EndsWith(".deb", StringComparison.Ordinal) && File.Exists(deb)
            ? deb
            : throw new InvalidOperationException($"scripts/package-deb.sh did not print the path of a .deb last:\n{r}");
    }

    /// <summary>
    /// Installs the package on <paramref name="host"/> the operator's way, <c>apt install ./flannel-cs_*.deb</c> run on
    /// that host (its dependencies are in the tree already: the host has no way to the Debian mirror). Returns apt's
    /// output, without dpkg's progress.
    /// </summary>
    public static string Install(NspawnHost host, string deb)
    {
        string name = Path.GetFileName(deb);
        host.CopyIn(deb, "/root/" + name);
        var r = host.Exec(true, "sh", "-c", $"cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./{name}");
        return string.Join('\n', (r.Stdout + r.Stderr).Split('\n').Where(l => !l.StartsWith("(Reading database", StringComparison.Ordinal)));
    }
}
