namespace Flannel.Daemon.Tests;

/// <summary>Paths in the repository the tests run from.</summary>
internal static class Repo
{
    /// <summary>The folder holding Flannel.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string MkDockerOpts => Path.Combine(Root, "scripts", "mk-docker-opts.sh");

    public static string SystemdDir => Path.Combine(Root, "packaging", "systemd");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flannel.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Flannel.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A directory under the system temp directory, deleted with everything in it on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flannel-cs-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

internal static class Processes
{
    /// <summary>
    /// Runs a program to its end with the test's environment minus anything that would change what mk-docker-opts.sh
    /// writes (FLANNEL_*, DOCKER_OPT*), plus <paramref name="env"/>, in the repository root unless told otherwise.
    /// </summary>
    public static CommandResult Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var changes = new Dictionary<string, string?> { ["FLANNEL_*"] = null, ["DOCKER_OPT*"] = null };
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            changes[name] = value;
        }
        return Command.TryRun(program, args, changes, workingDirectory ?? Repo.Root, timeout);
    }

    /// <summary>
    /// mk-docker-opts.sh ends by looking for a route to the subnet via another host in this machine's routing table;
    /// a test whose subnet is routed here would fail for that reason alone, so say so plainly.
    /// </summary>
    public static void AssertNoRouteVia(string network)
    {
        var routes = Run("ip", ["route", "show"]);
        var clash = routes.Stdout.Split('\n').FirstOrDefault(line =>
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Contains(network) && fields.Contains("via");
        });
        Assert.True(clash is null, $"this machine routes {network} via another host ({clash}): the test inputs need another subnet");
    }
}
