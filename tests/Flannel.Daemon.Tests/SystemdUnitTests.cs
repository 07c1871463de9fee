using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace Flannel.Daemon.Tests;

/// <summary>
/// packaging/systemd: <c>systemd-analyze verify</c> on flanneld.service and on docker.service with the flannel
/// drop-in, both Debian's real docker.io unit and a Docker CE-like one with the README's ExecStart override, plus the
/// directives the install relies on.
/// </summary>
[SupportedOSPlatform("linux")]
[Unit]
public sealed partial class SystemdUnitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string UnitFile => Path.Combine(Repo.SystemdDir, "flanneld.service");

    private static string DropIn => Path.Combine(Repo.SystemdDir, "docker.service.d", "flannel.conf");

    private static string DefaultFile => Path.Combine(Repo.SystemdDir, "flanneld.default");

    /// <summary>Where Debian 12's docker.io package installs its unit (dpkg's name for it; /lib is /usr/lib).</summary>
    internal const string DebianDockerUnit = "/lib/systemd/system/docker.service";

    /// <summary>The README's override file for Docker CE, whose unit runs /usr/bin/dockerd without $DOCKER_OPTS.</summary>
    private const string DockerCeOverrideName = "flannel-docker-ce.conf";

    internal static string SystemdAnalyze()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/bin"))
        {
            string candidate = Path.Combine(dir.Length == 0 ? "." : dir, "systemd-analyze");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        Assert.Fail("systemd-analyze is missing: install Debian's systemd package (scripts/test.sh should)");
        return "";
    }

    /// <summary>
    /// The docker.service that Debian's docker.io package installed on this machine; the test fails (never skips)
    /// when it is not there, as the drop-in is made for exactly this file.
    /// </summary>
    internal static string DebianDocker()
    {
        Assert.True(File.Exists(DebianDockerUnit), $"{DebianDockerUnit} is missing: install Debian's docker.io package (scripts/test.sh does)");
        var owner = Processes.Run("dpkg", ["-S", DebianDockerUnit]);
        Assert.True(owner.ExitCode == 0 && owner.Stdout.StartsWith("docker.io:", StringComparison.Ordinal),
            $"{DebianDockerUnit} is not docker.io's: {owner}");
        return DebianDockerUnit;
    }

    // flanneld.service's Exec lines point at the package's /usr/bin/flanneld and /usr/bin/mk-docker-opts.sh, which this
    // machine need not have; verify refuses commands that do not exist, so the copy points at a stub instead. Debian's
    // docker.service and our drop-in are verified as written (their commands must exist here: docker.io is installed).
    [GeneratedRegex(@"^(Exec[A-Za-z]*=[-@:+!|]*)/\S+", RegexOptions.Multiline)]
    private static partial Regex ExecPath();

    private string Stub
    {
        get
        {
            string stub = _dir.File("stub");
            if (!File.Exists(stub))
            {
                File.WriteAllText(stub, "#!/bin/sh\nexit 0\n");
                File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            return stub;
        }
    }

    private string WithStubExecs(string unitText) => ExecPath().Replace(unitText, m => m.Groups[1].Value + Stub);

    /// <summary>A stand-in for Docker CE's docker.service (docker-ce's own unit: /usr/bin/dockerd, no $DOCKER_OPTS).</summary>
    private const string DockerCeUnit = """
        [Unit]
        Description=Docker Application Container Engine (Docker CE stand-in)
        After=network-online.target
        Wants=network-online.target

        [Service]
        Type=notify
        ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
        ExecReload=/bin/kill -s HUP $MAINPID
        Restart=always
        RestartSec=2

        [Install]
        WantedBy=multi-user.target

        """;

    /// <summary>The README's Docker CE override: the ini block that starts with a comment naming the file.</summary>
    internal static string ReadmeDockerCeOverride()
    {
        string readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var m = Regex.Match(readme, @"```ini\n# /etc/systemd/system/docker\.service\.d/" + Regex.Escape(DockerCeOverrideName) + @"\n(?<body>.*?)```",
            RegexOptions.Singleline);
        Assert.True(m.Success, $"README has no ```ini block for /etc/systemd/system/docker.service.d/{DockerCeOverrideName}");
        return m.Groups["body"].Value;
    }

    private enum Docker
    {
        /// <summary>Debian's docker.io unit, the real file, verified by its own path.</summary>
        Debian,

        /// <summary>The Docker CE stand-in in the temp dir, with the README's override next to our drop-in.</summary>
        Ce,
    }

    /// <summary>
    /// Lays out flanneld.service (Exec paths stubbed), docker.service.d/flannel.conf and, for Docker CE, the stand-in
    /// docker.service and the README's override (Exec paths stubbed: /usr/bin/dockerd is Docker CE's) in the temp dir,
    /// then applies <paramref name="mutate"/> to the laid-out copy of the named file. Returns the docker.service to verify.
    /// </summary>
    private string LayOut(Docker docker, string? mutateFile = null, Func<string, string>? mutate = null)
    {
        Directory.CreateDirectory(_dir.File("docker.service.d"));
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["flanneld.service"] = _dir.File("flanneld.service"),
            ["flannel.conf"] = Path.Combine(_dir.Path, "docker.service.d", "flannel.conf"),
        };
        File.WriteAllText(files["flanneld.service"], WithStubExecs(File.ReadAllText(UnitFile)));
        File.WriteAllText(files["flannel.conf"], File.ReadAllText(DropIn));
        string dockerUnit;
        if (docker == Docker.Debian)
        {
            dockerUnit = DebianDocker();
        }
        else
        {
            dockerUnit = files["docker.service"] = _dir.File("docker.service");
            files[DockerCeOverrideName] = Path.Combine(_dir.Path, "docker.service.d", DockerCeOverrideName);
            File.WriteAllText(dockerUnit, WithStubExecs(DockerCeUnit));
            File.WriteAllText(files[DockerCeOverrideName], WithStubExecs(ReadmeDockerCeOverride()));
        }
        if (mutateFile is not null && mutate is not null)
        {
            File.WriteAllText(files[mutateFile], mutate(File.ReadAllText(files[mutateFile])));
        }
        return dockerUnit;
    }

    /// <summary>
    /// Runs verify on flanneld.service and the given docker.service. The unit path is the temp dir plus the
    /// distribution's unit directories (for network-online.target, containerd.service and friends) but not
    /// /etc/systemd/system or /run/systemd/system, so that units or drop-ins installed on this machine cannot
    /// interfere; docker.service.d/ in the temp dir applies to docker.service wherever that file is. systemd 252 exits
    /// 0 on unknown keys and bad values ("..., ignoring"), so any message about our units is a failure too. Not
    /// --recursive-errors=no: it also silences the warnings of a unit first loaded as another's dependency
    /// (docker.service, named by Before=).
    /// </summary>
    private (bool Ok, string Output) Verify(string dockerUnit)
    {
        var vendorDirs = new[] { "/usr/lib/systemd/system", "/lib/systemd/system" }
            .Where(Directory.Exists)
            .DistinctBy(d => new DirectoryInfo(d).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(d));
        string unitPath = string.Join(':', vendorDirs.Prepend(_dir.Path));
        var result = Processes.Run(SystemdAnalyze(),
            ["verify", "--man=no", "--generators=no", _dir.File("flanneld.service"), dockerUnit],
            new Dictionary<string, string> { ["SYSTEMD_UNIT_PATH"] = unitPath, ["SYSTEMD_LOG_COLOR"] = "0" });
        string output = result.Stdout + result.Stderr;
        bool aboutOurs = output.Split('\n').Any(line =>
            line.Contains(_dir.Path, StringComparison.Ordinal) ||
            line.Contains("flanneld.service", StringComparison.Ordinal) ||
            line.Contains("docker.service", StringComparison.Ordinal));
        return (result.ExitCode == 0 && !aboutOurs, $"exit {result.ExitCode}\n{output}");
    }

    [Fact]
    public void Units_pass_systemd_analyze_verify_with_Debians_docker_io_unit()
    {
        var (ok, output) = Verify(LayOut(Docker.Debian));
        Assert.True(ok, output);
    }

    [Fact]
    public void Units_pass_systemd_analyze_verify_with_Docker_CE_and_the_README_override()
    {
        var (ok, output) = Verify(LayOut(Docker.Ce));
        Assert.True(ok, output);
    }

    [Theory]
    [InlineData("flanneld.service", "Restart=on-failure", "Restrat=on-failure")] // misspelt key
    [InlineData("flanneld.service", "Type=notify", "Type=notfy")] // bad value
    [InlineData("flanneld.service", "RestartSec=5", "RestartSec=5x")]
    [InlineData("flanneld.service", "[Install]", "[Instal]")] // misspelt section
    [InlineData("flanneld.service", "[Install]", "ExecStopPost=/nonexistent/flannel-cs-test\n\n[Install]")] // missing program
    [InlineData("flannel.conf", "EnvironmentFile=", "EnviromentFile=")]
    [InlineData("flannel.conf", "After=flanneld.service", "After=flanneld.servic")]
    // The drop-in's old override: Debian's docker.io has no /usr/bin/dockerd.
    [InlineData("flannel.conf", "EnvironmentFile=-/run/docker_opts.env",
        "EnvironmentFile=-/run/docker_opts.env\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS")]
    // An ExecStart without the reset: docker.service (Type=notify) would have two.
    [InlineData("flannel.conf", "EnvironmentFile=-/run/docker_opts.env",
        "EnvironmentFile=-/run/docker_opts.env\nExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS")]
    public void A_broken_unit_fails_verify_with_Debians_docker_io_unit(string file, string from, string to)
    {
        string docker = LayOut(Docker.Debian, file, text =>
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            return text.Replace(from, to, StringComparison.Ordinal);
        });
        var (ok, output) = Verify(docker);
        Assert.False(ok, output);
    }

    [Theory]
    [InlineData(DockerCeOverrideName, "ExecStart=\n", "")] // without the reset, docker.service has two ExecStart=
    [InlineData(DockerCeOverrideName, "[Service]", "[Servce]")]
    public void A_broken_Docker_CE_override_fails_verify(string file, string from, string to)
    {
        string docker = LayOut(Docker.Ce, file, text =>
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            return text.Replace(from, to, StringComparison.Ordinal);
        });
        var (ok, output) = Verify(docker);
        Assert.False(ok, output);
    }

    /// <summary>Section and key to every value, in order (a unit file's own syntax: no quotes, no continuation lines).</summary>
    internal static Dictionary<string, List<string>> Directives(string text)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string section = "";
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[')
            {
                section = line;
                continue;
            }
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"not a directive: {raw}");
            string key = section + line[..eq].Trim();
            if (!result.TryGetValue(key, out var values))
            {
                result[key] = values = [];
            }
            values.Add(line[(eq + 1)..].Trim());
        }
        return result;
    }

    private static Dictionary<string, List<string>> DirectivesOf(string path) => Directives(File.ReadAllText(path));

    /// <summary>
    /// A unit's list settings as systemd ends up with them: the unit's values, then each drop-in's in the order systemd
    /// reads drop-ins (by file name), an empty assignment clearing what came before.
    /// </summary>
    internal static Dictionary<string, List<string>> Effective(string unitText, IEnumerable<(string Name, string Text)> dropIns)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var text in dropIns.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => d.Text).Prepend(unitText))
        {
            foreach (var (key, values) in Directives(text))
            {
                if (!result.TryGetValue(key, out var list))
                {
                    result[key] = list = [];
                }
                foreach (var value in values)
                {
                    if (value.Length == 0)
                    {
                        list.Clear();
                    }
                    else
                    {
                        list.Add(value);
                    }
                }
            }
        }
        return result;
    }

    /// <summary>
    /// The variable and the file flanneld.service's ExecStartPost has mk-docker-opts.sh write (its -k and -d).
    /// </summary>
    internal static (string Key, string File) DockerOptsOutput()
    {
        string post = Assert.Single(DirectivesOf(UnitFile)["[Service]ExecStartPost"]);
        var args = post.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("/mk-docker-opts.sh", args[0], StringComparison.Ordinal);
        string Arg(string flag) => args[Array.IndexOf(args, flag) + 1];
        return (Arg("-k"), Arg("-d"));
    }

    /// <summary>
    /// The effective docker.service starts dockerd with the options mk-docker-opts.sh writes: its one ExecStart passes
    /// the variable, and the last environment file (the one systemd lets win) is the file it is written to.
    /// </summary>
    private static void AssertDockerdGetsTheOptions(Dictionary<string, List<string>> effective, string dockerd)
    {
        var (key, file) = DockerOptsOutput();
        string exec = Assert.Single(effective["[Service]ExecStart"]);
        var words = exec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(dockerd, words[0]);
        Assert.Contains("$" + key, words);
        Assert.Equal("-" + file, effective["[Service]EnvironmentFile"][^1]);
    }

    [Fact]
    public void Debians_docker_io_unit_with_the_drop_in_starts_dockerd_with_the_flannel_options()
    {
        var effective = Effective(File.ReadAllText(DebianDocker()), [("flannel.conf", File.ReadAllText(DropIn))]);
        AssertDockerdGetsTheOptions(effective, "/usr/sbin/dockerd");
        // Debian's own environment file stays, read before ours (so DOCKER_OPTS from it is replaced, not merged).
        Assert.Equal(["-/etc/default/docker", "-/run/docker_opts.env"], effective["[Service]EnvironmentFile"]);
        Assert.Contains("flanneld.service", effective["[Unit]Wants"]);
    }

    [Fact]
    public void Docker_CE_unit_with_the_README_override_starts_dockerd_with_the_flannel_options()
    {
        var effective = Effective(DockerCeUnit,
            [("flannel.conf", File.ReadAllText(DropIn)), (DockerCeOverrideName, ReadmeDockerCeOverride())]);
        AssertDockerdGetsTheOptions(effective, "/usr/bin/dockerd");
        Assert.Equal(["-/run/docker_opts.env"], effective["[Service]EnvironmentFile"]);
    }

    [Fact]
    public void Flanneld_unit_has_the_expected_directives()
    {
        var d = DirectivesOf(UnitFile);
        Assert.Equal(["network-online.target etcd.service"], d["[Unit]After"]);
        Assert.Equal(["network-online.target"], d["[Unit]Wants"]);
        Assert.Equal(["docker.service"], d["[Unit]Before"]);
        Assert.Equal(["man:flanneld(8)"], d["[Unit]Documentation"]);
        Assert.Equal(["notify"], d["[Service]Type"]);
        Assert.Equal(["-/etc/default/flanneld"], d["[Service]EnvironmentFile"]);
        // Where the package installs them.
        Assert.Equal(["/usr/bin/flanneld"], d["[Service]ExecStart"]);
        Assert.Equal(["/usr/bin/mk-docker-opts.sh -k DOCKER_OPTS -d /run/docker_opts.env"], d["[Service]ExecStartPost"]);
        Assert.Equal(["on-failure"], d["[Service]Restart"]);
        Assert.Equal(["5"], d["[Service]RestartSec"]);
        Assert.Equal(["65536"], d["[Service]LimitNOFILE"]);
        Assert.Single(d["[Service]TimeoutStartSec"]);
        Assert.Equal(["multi-user.target"], d["[Install]WantedBy"]);
    }

    [Fact]
    public void Docker_drop_in_orders_docker_after_flanneld_and_passes_the_options()
    {
        var d = DirectivesOf(DropIn);
        Assert.Equal(["flanneld.service"], d["[Unit]After"]);
        Assert.Equal(["flanneld.service"], d["[Unit]Wants"]);
        Assert.False(d.ContainsKey("[Unit]Requires"), "Requires= would restart docker (and its containers) with every flanneld restart");
        Assert.Equal(["-/run/docker_opts.env"], d["[Service]EnvironmentFile"]);
        // Debian's docker.io unit already passes $DOCKER_OPTS to its /usr/sbin/dockerd: no override of its command.
        Assert.False(d.ContainsKey("[Service]ExecStart"), "the drop-in must keep the docker.io unit's own ExecStart");
    }

    [Fact]
    public void Default_file_is_all_comments_with_flanneld_settings()
    {
        var lines = File.ReadAllLines(DefaultFile);
        Assert.All(lines, line => Assert.True(line.Length == 0 || line.StartsWith('#'), $"not commented out: {line}"));
        var settings = lines.Select(l => Regex.Match(l, @"^#([A-Z][A-Z0-9_]*)=")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("FLANNELD_ETCD_ENDPOINTS", settings);
        Assert.Contains("FLANNELD_IFACE", settings);
        Assert.Contains("FLANNELD_IP_MASQ", settings);
        // The binary is native (NativeAOT): no .NET runtime setting such as DOTNET_ROOT belongs here.
        Assert.All(settings, name => Assert.StartsWith("FLANNELD_", name, StringComparison.Ordinal));
    }
}
