using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace Flannel.Daemon.Tests;

/// <summary>
/// packaging/systemd: <c>systemd-analyze verify</c> on flanneld.service and on a Docker-like docker.service with
/// the flannel drop-in, plus the directives the install relies on.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class SystemdUnitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string UnitFile => Path.Combine(Repo.SystemdDir, "flanneld.service");

    private static string DropIn => Path.Combine(Repo.SystemdDir, "docker.service.d", "flannel.conf");

    private static string DefaultFile => Path.Combine(Repo.SystemdDir, "flanneld.default");

    private static string SystemdAnalyze()
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

    // Exec lines point at binaries an install puts in /usr/local/bin and /usr/bin; verify refuses commands that do not
    // exist, so the copies point at a stub instead. Everything else is verified as written.
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

    /// <summary>
    /// Lays out the units in the temp dir (flanneld.service, a docker.service like Docker CE's and
    /// docker.service.d/flannel.conf), applying <paramref name="mutate"/> to the named file's text first.
    /// </summary>
    private void LayOut(string? mutateFile = null, Func<string, string>? mutate = null)
    {
        string Text(string name, string path)
        {
            string text = File.ReadAllText(path);
            return name == mutateFile && mutate is not null ? mutate(text) : text;
        }

        File.WriteAllText(_dir.File("flanneld.service"), WithStubExecs(Text("flanneld.service", UnitFile)));
        File.WriteAllText(_dir.File("docker.service"), WithStubExecs("""
            [Unit]
            Description=Docker Application Container Engine (test stand-in)
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

            """));
        Directory.CreateDirectory(_dir.File("docker.service.d"));
        File.WriteAllText(Path.Combine(_dir.Path, "docker.service.d", "flannel.conf"), WithStubExecs(Text("flannel.conf", DropIn)));
    }

    /// <summary>
    /// Runs verify on both units. The unit path is the temp dir plus the distribution's unit directories (for
    /// network-online.target and friends) but not /etc/systemd/system or /run/systemd/system, so that units or
    /// drop-ins installed on this machine cannot interfere. systemd 252 exits 0 on unknown keys and bad values
    /// ("..., ignoring"), so any message about our units is a failure too. Not --recursive-errors=no: it also
    /// silences the warnings of a unit first loaded as another's dependency (docker.service, named by Before=).
    /// </summary>
    private (bool Ok, string Output) Verify()
    {
        var vendorDirs = new[] { "/usr/lib/systemd/system", "/lib/systemd/system" }
            .Where(Directory.Exists)
            .DistinctBy(d => new DirectoryInfo(d).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(d));
        string unitPath = string.Join(':', vendorDirs.Prepend(_dir.Path));
        var result = Processes.Run(SystemdAnalyze(),
            ["verify", "--man=no", "--generators=no", _dir.File("flanneld.service"), _dir.File("docker.service")],
            new Dictionary<string, string> { ["SYSTEMD_UNIT_PATH"] = unitPath, ["SYSTEMD_LOG_COLOR"] = "0" });
        string output = result.Stdout + result.Stderr;
        bool aboutOurs = output.Split('\n').Any(line =>
            line.Contains(_dir.Path, StringComparison.Ordinal) ||
            line.Contains("flanneld.service", StringComparison.Ordinal) ||
            line.Contains("docker.service", StringComparison.Ordinal));
        return (result.ExitCode == 0 && !aboutOurs, $"exit {result.ExitCode}\n{output}");
    }

    [Fact]
    public void Units_pass_systemd_analyze_verify()
    {
        LayOut();
        var (ok, output) = Verify();
        Assert.True(ok, output);
    }

    [Theory]
    [InlineData("flanneld.service", "Restart=on-failure", "Restrat=on-failure")] // misspelt key
    [InlineData("flanneld.service", "Type=notify", "Type=notfy")] // bad value
    [InlineData("flanneld.service", "RestartSec=5", "RestartSec=5x")]
    [InlineData("flanneld.service", "[Install]", "[Instal]")] // misspelt section
    [InlineData("flannel.conf", "EnvironmentFile=", "EnviromentFile=")]
    [InlineData("flannel.conf", "After=flanneld.service", "After=flanneld.servic")]
    [InlineData("flannel.conf", "ExecStart=\n", "")] // without the reset, docker.service has two ExecStart=
    public void A_broken_unit_fails_verify(string file, string from, string to)
    {
        LayOut(file, text =>
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            return text.Replace(from, to, StringComparison.Ordinal);
        });
        var (ok, output) = Verify();
        Assert.False(ok, output);
    }

    [Fact]
    public void A_missing_executable_fails_verify()
    {
        LayOut("flanneld.service", text => text + "ExecStopPost=/nonexistent/flannel-cs-test\n");
        var (ok, output) = Verify();
        Assert.False(ok, output);
    }

    /// <summary>Section and key to every value, in order (a unit file's own syntax: no quotes, no continuation lines).</summary>
    private static Dictionary<string, List<string>> Directives(string path)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string section = "";
        foreach (var raw in File.ReadAllLines(path))
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

    [Fact]
    public void Flanneld_unit_has_the_expected_directives()
    {
        var d = Directives(UnitFile);
        Assert.Equal(["network-online.target etcd.service"], d["[Unit]After"]);
        Assert.Equal(["network-online.target"], d["[Unit]Wants"]);
        Assert.Equal(["docker.service"], d["[Unit]Before"]);
        Assert.Equal(["notify"], d["[Service]Type"]);
        Assert.Equal(["-/etc/default/flanneld"], d["[Service]EnvironmentFile"]);
        Assert.Equal(["/usr/local/bin/flanneld"], d["[Service]ExecStart"]);
        Assert.Equal(["/usr/local/bin/mk-docker-opts.sh -k DOCKER_OPTS -d /run/docker_opts.env"], d["[Service]ExecStartPost"]);
        Assert.Equal(["on-failure"], d["[Service]Restart"]);
        Assert.Equal(["5"], d["[Service]RestartSec"]);
        Assert.Equal(["65536"], d["[Service]LimitNOFILE"]);
        Assert.Single(d["[Service]TimeoutStartSec"]);
        Assert.Equal(["multi-user.target"], d["[Install]WantedBy"]);
    }

    [Fact]
    public void Docker_drop_in_orders_docker_after_flanneld_and_passes_the_options()
    {
        var d = Directives(DropIn);
        Assert.Equal(["flanneld.service"], d["[Unit]After"]);
        Assert.Equal(["flanneld.service"], d["[Unit]Wants"]);
        Assert.False(d.ContainsKey("[Unit]Requires"), "Requires= would restart docker (and its containers) with every flanneld restart");
        Assert.Equal(["-/run/docker_opts.env"], d["[Service]EnvironmentFile"]);
        Assert.Equal(["", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS"], d["[Service]ExecStart"]);
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
        Assert.All(settings, name => Assert.True(name.StartsWith("FLANNELD_", StringComparison.Ordinal) || name == "DOTNET_ROOT", name));
    }
}
