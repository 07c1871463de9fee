namespace Flannel.Daemon.Tests;

/// <summary>
/// scripts/lib.sh's ensure_packages: while its apt-get install runs, a policy-rc.d forbids starting services (so that
/// etcd-server and docker.io do not start etcd and dockerd on the machine), and it is gone afterwards on every way out;
/// one that was there before is left as it was. apt-get is a stand-in on PATH that records what it saw, and the
/// policy-rc.d path is moved into a temp dir (ENSURE_PACKAGES_POLICY_RC_D), so the machine's own is never touched.
/// </summary>
public sealed class EnsurePackagesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Policy => _dir.File("policy-rc.d");

    private string Seen => _dir.File("seen");

    /// <summary>
    /// Runs ensure_packages for a command that does not exist, with an apt-get that, on install, records whether the
    /// policy file is there and what it answers for "etcd start", then does <paramref name="installAction"/>.
    /// </summary>
    private CommandResult Run(string installAction)
    {
        string bin = _dir.File("bin");
        Directory.CreateDirectory(bin);
        string aptGet = Path.Combine(bin, "apt-get");
        File.WriteAllText(aptGet, $$"""
            #!/bin/sh
            [ "$1" = install ] || exit 0
            if [ -e '{{Policy}}' ]; then '{{Policy}}' etcd start; echo "policy exit $?" >>'{{Seen}}'; else echo "no policy" >>'{{Seen}}'; fi
            echo "args $*" >>'{{Seen}}'
            {{installAction}}
            """);
        File.SetUnixFileMode(aptGet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return Processes.Run("bash",
            ["-c", $". '{Repo.Root}/scripts/lib.sh'; ensure_packages flannel-cs-test-no-such-command:flannel-cs-test-pkg ls:coreutils; echo \"rc=$?\""],
            new Dictionary<string, string>
            {
                ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
                ["ENSURE_PACKAGES_POLICY_RC_D"] = Policy,
            });
    }

    private string[] SeenLines => File.Exists(Seen) ? File.ReadAllLines(Seen) : [];

    [NeedsRoot] // ensure_packages installs only as root
    [Fact]
    public void The_install_runs_with_a_policy_that_forbids_starting_services_and_it_is_removed_after()
    {
        var result = Run("exit 0");
        Assert.Contains("rc=0", result.Stdout, StringComparison.Ordinal);
        // Only the missing package is installed; the policy said 101, "action forbidden".
        Assert.Equal(["policy exit 101", "args install -y -qq --no-install-recommends flannel-cs-test-pkg"], SeenLines);
        Assert.False(File.Exists(Policy), $"policy-rc.d left behind\n{result}");
    }

    [NeedsRoot] // ensure_packages installs only as root
    [Fact]
    public void A_failed_install_fails_and_removes_the_policy()
    {
        var result = Run("exit 100");
        Assert.Contains("rc=1", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("policy exit 101", SeenLines[0]);
        Assert.False(File.Exists(Policy), $"policy-rc.d left behind\n{result}");
    }

    [NeedsRoot] // ensure_packages installs only as root
    [Fact]
    public void An_install_ended_by_SIGTERM_removes_the_policy()
    {
        // The stand-in signals the shell that runs it (the install's subshell), as a kill of the script would.
        var result = Run("kill -TERM $PPID; exit 0");
        Assert.Contains("rc=143", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("policy exit 101", SeenLines[0]);
        Assert.False(File.Exists(Policy), $"policy-rc.d left behind\n{result}");
    }

    [NeedsRoot] // ensure_packages installs only as root
    [Fact]
    public void An_existing_policy_is_kept_as_it_was()
    {
        const string Theirs = "#!/bin/sh\n# the administrator's\nexit 0\n";
        File.WriteAllText(Policy, Theirs);
        File.SetUnixFileMode(Policy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var result = Run("exit 0");
        Assert.Contains("rc=0", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("policy exit 0", SeenLines[0]);
        Assert.Equal(Theirs, File.ReadAllText(Policy));
        Assert.Contains("is kept", result.Stderr, StringComparison.Ordinal);
    }

    [Unit]
    [Fact]
    public void Nothing_is_installed_when_nothing_is_missing()
    {
        var result = Processes.Run("bash", ["-c", $". '{Repo.Root}/scripts/lib.sh'; ensure_packages ls:coreutils /:base-files; echo \"rc=$?\""],
            new Dictionary<string, string> { ["ENSURE_PACKAGES_POLICY_RC_D"] = Policy, ["PATH"] = "/usr/bin:/bin" });
        Assert.Equal("rc=0\n", result.Stdout);
        Assert.False(File.Exists(Policy));
    }
}

/// <summary>README's quick start names every Debian package that scripts/test.sh and scripts/demo.sh install.</summary>
[Unit]
public sealed class ReadmePackagesTests
{
    [Theory]
    [InlineData("scripts/test.sh")]
    [InlineData("scripts/demo.sh")]
    public void The_README_lists_every_package_the_script_installs(string script)
    {
        // Each ensure_packages call, its continuation lines joined; the package is what follows the colon.
        string text = File.ReadAllText(Path.Combine(Repo.Root, script)).Replace("\\\n", " ", StringComparison.Ordinal);
        var packages = text.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("ensure_packages ", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            .Select(pair => pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..])
            .Distinct()
            .ToList();
        Assert.True(packages.Count >= 5, $"found only {packages.Count} packages in {script}");
        string row = Assert.Single(File.ReadAllLines(Path.Combine(Repo.Root, "README.md")),
            l => l.StartsWith($"| `{script}` |", StringComparison.Ordinal));
        var listed = row.Split('|')[2].Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries);
        Assert.All(packages, p => Assert.Contains(p, listed));
    }
}
