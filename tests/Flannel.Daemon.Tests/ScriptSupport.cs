using System.Diagnostics;

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

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

internal static class Processes
{
    /// <summary>
    /// Runs a program to its end (30 s at most) with the test's environment minus anything that would change what
    /// mk-docker-opts.sh writes (FLANNEL_*, DOCKER_OPT*), plus <paramref name="env"/>.
    /// </summary>
    public static ProcessResult Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        foreach (var name in psi.Environment.Keys.ToList())
        {
            if (name.StartsWith("FLANNEL_", StringComparison.Ordinal) || name.StartsWith("DOCKER_OPT", StringComparison.Ordinal))
            {
                psi.Environment.Remove(name);
            }
        }
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 30 s");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
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
