using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Flannel.Daemon.Tests.EndToEnd;

namespace Flannel.Daemon.Tests;

/// <summary>
/// Builds the Debian package once (scripts/package-deb.sh with the published binary, $FLANNELD_BINARY) into a temp
/// dir of its own, for <see cref="PackageTests"/>.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DebianPackage : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>Packaging runs xz over a 15 MB binary and lintian reads it all: minutes on a busy 2-core machine.</summary>
    internal static readonly TimeSpan Slow = TimeSpan.FromMinutes(5);

    public DebianPackage()
    {
        // The package is of the native binary: the app host next to the tests would need the .NET runtime (and
        // package-deb.sh refuses it). scripts/test.sh publishes it and exports FLANNELD_BINARY.
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("FLANNELD_BINARY")),
            "FLANNELD_BINARY must name the published native flanneld (scripts/publish.sh; scripts/test.sh sets it)");
        Binary = FlanneldBinary.Path;
        Build = Processes.Run(Path.Combine(Repo.Root, "scripts", "package-deb.sh"), [_dir.File("out")],
            new Dictionary<string, string> { ["FLANNELD_BINARY"] = Binary }, workingDirectory: _dir.Path, timeout: Slow);
        Assert.True(Build.ExitCode == 0, Build.ToString());
        // The interface other scripts rely on: the path is the last line of standard output.
        Deb = Build.Stdout.TrimEnd('\n').Split('\n')[^1];
        Assert.True(File.Exists(Deb), $"no package at the last line of stdout\n{Build}");
        BinaryVersion = Processes.Run(Binary, ["--version"]).Stderr.Trim();
    }

    public string Binary { get; }

    public CommandResult Build { get; }

    public string Deb { get; }

    /// <summary>What the packaged binary says it is, e.g. 1.0.0+&lt;commit&gt;.</summary>
    public string BinaryVersion { get; }

    /// <summary>A fresh directory for one test, removed with the fixture.</summary>
    public string NewDir()
    {
        string dir = _dir.File(Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// The Debian package: its files, control fields and conffiles, lintian, its maintainer scripts, and an unpacked copy
/// in a throwaway root where the installed flanneld runs and the installed units pass <c>systemd-analyze verify
/// --root</c> next to Debian's docker.io units.
/// </summary>
[SupportedOSPlatform("linux")]
[NeedsBinary]
public sealed class PackageTests(DebianPackage package) : IClassFixture<DebianPackage>
{
    private static CommandResult Ok(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static string Arch => Ok(Processes.Run("dpkg", ["--print-architecture"])).Stdout.Trim();

    [Fact]
    public void The_package_is_named_for_its_version_and_architecture()
    {
        string version = package.BinaryVersion.Split('+')[0].Replace('-', '~');
        Assert.Equal($"flannel-cs_{version}_{Arch}.deb", Path.GetFileName(package.Deb));
        // Everything else package-deb.sh says goes to stderr.
        Assert.Equal([package.Deb], package.Build.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void The_package_holds_exactly_its_files_owned_by_root_with_their_modes()
    {
        var entries = Ok(Processes.Run("dpkg-deb", ["-c", package.Deb])).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => (Mode: f[0], Owner: f[1], Path: f[5]))
            .ToList();
        Assert.All(entries, e => Assert.Equal("root/root", e.Owner));
        Assert.All(entries.Where(e => e.Mode[0] == 'd'), e => Assert.Equal("drwxr-xr-x", e.Mode));
        var files = entries.Where(e => e.Mode[0] != 'd').ToDictionary(e => e.Path, e => e.Mode, StringComparer.Ordinal);
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["./usr/bin/flanneld"] = "-rwxr-xr-x",
            ["./usr/bin/mk-docker-opts.sh"] = "-rwxr-xr-x",
            ["./lib/systemd/system/flanneld.service"] = "-rw-r--r--",
            ["./lib/systemd/system/docker.service.d/flannel.conf"] = "-rw-r--r--",
            ["./etc/default/flanneld"] = "-rw-r--r--",
            ["./usr/share/man/man8/flanneld.8.gz"] = "-rw-r--r--",
            ["./usr/share/man/man8/mk-docker-opts.sh.8.gz"] = "-rw-r--r--",
            ["./usr/share/doc/flannel-cs/copyright"] = "-rw-r--r--",
            ["./usr/share/doc/flannel-cs/changelog.gz"] = "-rw-r--r--",
            ["./usr/share/lintian/overrides/flannel-cs"] = "-rw-r--r--",
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), files.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Control_fields_conffiles_and_maintainer_scripts()
    {
        string Field(string name) => Ok(Processes.Run("dpkg-deb", ["-f", package.Deb, name])).Stdout.Trim();
        Assert.Equal("flannel-cs", Field("Package"));
        Assert.Equal(package.BinaryVersion.Split('+')[0].Replace('-', '~'), Field("Version"));
        Assert.Equal(Arch, Field("Architecture"));
        Assert.Equal("net", Field("Section"));
        Assert.Equal("optional", Field("Priority"));
        Assert.Matches(@"^[^<>]+ <[^<>@\s]+@[^<>@\s]+\.[a-z]+>$", Field("Maintainer"));
        // The binary's libraries (from dpkg-shlibdeps), what it runs (iptables-restore/-save), what
        // mk-docker-opts.sh runs (ip) and what .NET loads for TLS (libssl.so.3, by dlopen).
        var depends = Field("Depends").Split(", ");
        Assert.Contains(depends, d => d.StartsWith("libc6 (>= ", StringComparison.Ordinal));
        Assert.Contains(depends, d => d.StartsWith("zlib1g (>= ", StringComparison.Ordinal));
        Assert.Contains("libssl3", depends);
        Assert.Contains("iptables", depends);
        Assert.Contains("iproute2", depends);
        Assert.Contains("docker.io", Field("Recommends").Split([", ", " | "], StringSplitOptions.None));
        long installedKiB = long.Parse(Field("Installed-Size"), System.Globalization.CultureInfo.InvariantCulture);
        // The binary is most of it (the package strips it again, which may take a few bytes off).
        long binaryKiB = new FileInfo(package.Binary).Length / 1024;
        Assert.InRange(installedKiB, binaryKiB - 64, binaryKiB + 200);
        string description = Field("Description");
        Assert.Matches(@"^\S.{10,78}\n ", description); // a synopsis line, then the long description
        Assert.DoesNotContain("flannel-cs", description.Split('\n')[0], StringComparison.Ordinal);

        Assert.Equal("/etc/default/flanneld", Ok(Processes.Run("dpkg-deb", ["-I", package.Deb, "conffiles"])).Stdout.Trim());
        string info = Ok(Processes.Run("dpkg-deb", ["-I", package.Deb])).Stdout;
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            Assert.Matches(new Regex(@$"\*\s+{script}\s+#!/bin/sh$", RegexOptions.Multiline), info);
        }
    }

    [Fact]
    public void Lintian_finds_no_error_or_warning_and_every_override_is_used()
    {
        Assert.True(File.Exists("/usr/bin/lintian"), "lintian is missing: install Debian's lintian package (scripts/test.sh does)");
        var lintian = Processes.Run("lintian", ["--info", "--display-experimental", "--pedantic", "--fail-on", "error,warning", package.Deb],
            timeout: DebianPackage.Slow);
        string output = lintian.Stdout + lintian.Stderr;
        var tags = output.Split('\n').Where(l => Regex.IsMatch(l, "^[EWIPX]: ")).ToList();
        Assert.True(lintian.ExitCode == 0, lintian.ToString());
        Assert.DoesNotContain(tags, t => t.StartsWith("E: ", StringComparison.Ordinal) || t.StartsWith("W: ", StringComparison.Ordinal));
        // An override lintian no longer needs is a stale justification: take it out of packaging/deb/lintian-overrides.
        Assert.DoesNotContain(tags, t => t.Contains("unused-override", StringComparison.Ordinal) || t.Contains("mismatched-override", StringComparison.Ordinal));
    }

    /// <summary>
    /// Runs one maintainer script of the package with deb-systemd-helper, deb-systemd-invoke and systemctl replaced by
    /// stubs that record their arguments, in a mount namespace of its own whose /run is an empty tmpfs, with
    /// /run/systemd/system in it when <paramref name="systemd"/> (the scripts' test for a systemd host), so both
    /// kinds of host are tried whatever this machine is.
    /// </summary>
    private string[] RunMaintainerScript(bool systemd, string script, params string[] args)
    {
        string dir = package.NewDir();
        Ok(Processes.Run("dpkg-deb", ["-e", package.Deb, Path.Combine(dir, "DEBIAN")]));
        string bin = Path.Combine(dir, "bin");
        Directory.CreateDirectory(bin);
        string log = Path.Combine(dir, "calls");
        foreach (var tool in new[] { "deb-systemd-helper", "deb-systemd-invoke", "systemctl" })
        {
            string stub = Path.Combine(bin, tool);
            // Every call succeeds, so was-enabled answers yes, as on a first install (no state yet).
            File.WriteAllText(stub, $"#!/bin/sh\necho \"{tool} $*\" >>'{log}'\nexit 0\n");
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        string host = "mount -t tmpfs flannel-cs-test /run && " + (systemd ? "mkdir -p /run/systemd/system && " : "") + "exec /bin/sh \"$0\" \"$@\"";
        Ok(Processes.Run("unshare", ["--mount", "/bin/sh", "-c", host, Path.Combine(dir, "DEBIAN", script), .. args],
            new Dictionary<string, string> { ["PATH"] = bin + ":/usr/sbin:/usr/bin:/sbin:/bin" }));
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    [NeedsRoot] // unshare --mount
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_first_install_enables_flanneld_and_starts_nothing(bool systemd)
    {
        string[] expected =
        [
            "deb-systemd-helper unmask flanneld.service",
            "deb-systemd-helper --quiet was-enabled flanneld.service",
            "deb-systemd-helper enable flanneld.service",
            .. systemd ? ["systemctl --system daemon-reload"] : Array.Empty<string>(),
        ];
        Assert.Equal(expected, RunMaintainerScript(systemd, "postinst", "configure", ""));
    }

    [NeedsRoot] // unshare --mount
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_upgrade_restarts_flanneld_only_if_it_runs(bool systemd)
    {
        var invoked = RunMaintainerScript(systemd, "postinst", "configure", "0.9.0")
            .Where(c => !c.StartsWith("deb-systemd-helper", StringComparison.Ordinal));
        Assert.Equal(systemd ? ["systemctl --system daemon-reload", "deb-systemd-invoke try-restart flanneld.service"] : [], invoked);
    }

    [NeedsRoot] // unshare --mount
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Removal_stops_flanneld_and_purge_forgets_it(bool systemd)
    {
        Assert.Equal(systemd ? ["deb-systemd-invoke stop flanneld.service"] : [], RunMaintainerScript(systemd, "prerm", "remove"));
        Assert.Empty(RunMaintainerScript(systemd, "prerm", "upgrade", "1.0.0"));
        string[] remove = [.. systemd ? ["systemctl --system daemon-reload"] : Array.Empty<string>(), "deb-systemd-helper mask flanneld.service"];
        Assert.Equal(remove, RunMaintainerScript(systemd, "postrm", "remove"));
        Assert.Equal(["deb-systemd-helper purge flanneld.service", "deb-systemd-helper unmask flanneld.service"],
            RunMaintainerScript(systemd, "postrm", "purge"));
    }

    /// <summary>
    /// A throwaway root: the package unpacked, plus what a Debian 12 host with docker.io has for the units to load:
    /// the systemd targets, docker.io's and containerd's units as Debian ships them, and stand-ins for their commands
    /// (verify only checks that each command is an executable file under the root). flanneld and mk-docker-opts.sh
    /// are the package's own.
    /// </summary>
    private string ThrowawayRoot()
    {
        string root = package.NewDir();
        Ok(Processes.Run("dpkg-deb", ["-x", package.Deb, root]));
        string units = Path.Combine(root, "lib", "systemd", "system");
        foreach (var target in Directory.GetFiles("/lib/systemd/system", "*.target"))
        {
            File.Copy(target, Path.Combine(units, Path.GetFileName(target)));
        }
        SystemdUnitTests.DebianDocker();
        var vendor = Ok(Processes.Run("dpkg", ["-L", "docker.io", "containerd"])).Stdout.Split('\n')
            .Where(p => Regex.IsMatch(p, @"^/lib/systemd/system/[^/]+\.(service|socket)$"));
        foreach (var unit in vendor)
        {
            File.Copy(unit, Path.Combine(units, Path.GetFileName(unit)));
        }
        foreach (var unit in Directory.GetFiles(units))
        {
            foreach (Match m in Regex.Matches(File.ReadAllText(unit), @"^Exec[A-Za-z]*=[-@:+!|]*(/\S+)", RegexOptions.Multiline))
            {
                string path = root + m.Groups[1].Value;
                if (!File.Exists(path))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(path, "#!/bin/sh\nexit 0\n");
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        return root;
    }

    private static CommandResult Verify(string root) =>
        Processes.Run(SystemdUnitTests.SystemdAnalyze(),
            ["verify", "--man=no", "--generators=no", "--root=" + root, "flanneld.service", "docker.service"],
            new Dictionary<string, string> { ["SYSTEMD_LOG_COLOR"] = "0" });

    [Fact]
    public void The_installed_binary_runs_and_the_installed_units_pass_verify_in_a_throwaway_root()
    {
        string root = ThrowawayRoot();
        var version = Processes.Run(Path.Combine(root, "usr", "bin", "flanneld"), ["--version"]);
        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.Equal(package.BinaryVersion, version.Stderr.Trim());

        // The units as installed: flanneld.service finds /usr/bin/flanneld and /usr/bin/mk-docker-opts.sh under the
        // root, and Debian's docker.service loads with our drop-in. Any message is a failure (systemd 252 exits 0 on
        // an unknown key).
        var verify = Verify(root);
        Assert.True(verify.ExitCode == 0 && (verify.Stdout + verify.Stderr).Trim().Length == 0, verify.ToString());
    }

    [Fact]
    public void Verify_in_the_throwaway_root_reads_the_installed_files()
    {
        // Without this, a verify that looked at the machine's own units and commands would pass as well.
        string root = ThrowawayRoot();
        File.Delete(Path.Combine(root, "usr", "bin", "mk-docker-opts.sh"));
        var missing = Verify(root);
        Assert.True(missing.ExitCode != 0 && missing.Stderr.Contains("/usr/bin/mk-docker-opts.sh", StringComparison.Ordinal), missing.ToString());

        root = ThrowawayRoot();
        File.AppendAllText(Path.Combine(root, "lib", "systemd", "system", "docker.service.d", "flannel.conf"), "EnviromentFile=-/run/x\n");
        var broken = Verify(root);
        Assert.True(broken.Stderr.Contains("docker.service.d/flannel.conf", StringComparison.Ordinal) &&
            broken.Stderr.Contains("EnviromentFile", StringComparison.Ordinal), broken.ToString());
    }

    [Fact]
    public void The_man_page_documents_every_flag_of_the_help()
    {
        string root = ThrowawayRoot();
        string help = Ok(Processes.Run(Path.Combine(root, "usr", "bin", "flanneld"), ["--help"])).Stdout;
        string page = Ok(Processes.Run("/bin/sh", ["-c", $"zcat '{root}/usr/share/man/man8/flanneld.8.gz'"])).Stdout;
        var flags = Regex.Matches(help, @"^  (--[a-z0-9-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.True(flags.Count > 30, $"only {flags.Count} flags in --help");
        // roff escapes every '-' as '\-'.
        Assert.All(flags, flag => Assert.Contains(@"\fB" + flag.Replace("-", @"\-", StringComparison.Ordinal) + @"\fR", page, StringComparison.Ordinal));
        foreach (var section in new[] { "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "\"EXIT STATUS\"", "FILES", "SEE ALSO" })
        {
            Assert.Contains(".SH " + section + "\n", page, StringComparison.Ordinal);
        }
    }
}
