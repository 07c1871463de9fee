using Flannel.TestSupport;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The flannel-cs Debian package as the operator gets it: built by scripts/package-deb.sh from the published native
/// flanneld ($FLANNELD_BINARY), installed on a host with <c>apt install ./flannel-cs_*.deb</c>.
/// </summary>
internal static class FlannelPackage
{
    public static string Script => Path.Combine(Repo.Root, "scripts", "package-deb.sh");

    /// <summary>The published NativeAOT flanneld: a simulated host has no .NET runtime, so the app host will not do.</summary>
    public static string NativeBinary
    {
        get
        {
            string path = FlanneldBinary.Path;
            return !File.Exists(Path.ChangeExtension(path, ".dll"))
                ? path
                : throw new InvalidOperationException(
                    $"{path} is the .NET app host; set FLANNELD_BINARY to the native flanneld (scripts/publish.sh artifacts/bin, as scripts/test.sh does)");
        }
    }

    /// <summary>Builds the .deb into <paramref name="outDir"/> and returns its path (null: no package-deb.sh yet).</summary>
    public static string? Build(string outDir)
    {
        if (!File.Exists(Script))
        {
            return null;
        }
        Directory.CreateDirectory(outDir);
        var r = NspawnHost.RunLong(Script, [outDir], TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["FLANNELD_BINARY"] = NativeBinary });
        string deb = r.Stdout.Trim().Split('\n')[^1].Trim();
        return r.ExitCode == 0 && deb.EndsWith(".deb", StringComparison.Ordinal) && File.Exists(deb)
            ? deb
            : throw new InvalidOperationException($"scripts/package-deb.sh did not print the path of a .deb last:\n{r}");
    }

    /// <summary>
    /// Installs the package on <paramref name="host"/> the operator's way, <c>apt install ./flannel-cs_*.deb</c> run on
    /// that host (its dependencies are in the tree already: the host has no way to the Debian mirror). Returns apt's
    /// output.
    /// </summary>
    public static string Install(NspawnHost host, string? deb)
    {
        if (deb is null)
        {
            return Stage(host);
        }
        string name = Path.GetFileName(deb);
        host.CopyIn(deb, "/root/" + name);
        var r = host.Exec(true, "sh", "-c", $"cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./{name}");
        return r.Stdout + r.Stderr;
    }

    /// <summary>
    /// Without scripts/package-deb.sh: the files the package installs, in the same places, from packaging/ (the unit's
    /// paths made /usr/bin, the drop-in without its ExecStart override, as the package has them).
    /// </summary>
    private static string Stage(NspawnHost host)
    {
        host.CopyIn(NativeBinary, "/usr/bin/flanneld");
        host.CopyIn(Repo.MkDockerOpts, "/usr/bin/mk-docker-opts.sh");
        foreach (var f in (string[])["/usr/bin/flanneld", "/usr/bin/mk-docker-opts.sh"])
        {
            File.SetUnixFileMode(host.Root + f, (UnixFileMode)0b111_101_101);
        }
        string unit = File.ReadAllText(Path.Combine(Repo.SystemdDir, "flanneld.service")).Replace("/usr/local/bin/", "/usr/bin/", StringComparison.Ordinal);
        string dropIn = string.Join('\n', File.ReadAllLines(Path.Combine(Repo.SystemdDir, "docker.service.d", "flannel.conf"))
            .Where(l => !l.StartsWith("ExecStart=", StringComparison.Ordinal)));
        Directory.CreateDirectory(host.Root + "/lib/systemd/system/docker.service.d");
        File.WriteAllText(host.Root + "/lib/systemd/system/flanneld.service", unit);
        File.WriteAllText(host.Root + "/lib/systemd/system/docker.service.d/flannel.conf", dropIn + "\n");
        host.CopyIn(Path.Combine(Repo.SystemdDir, "flanneld.default"), "/etc/default/flanneld");
        host.Exec(true, "systemctl", "daemon-reload");
        return "(no scripts/package-deb.sh: staged the package's files from packaging/)";
    }
}
