using System.Diagnostics;
using System.Globalization;

namespace Flannel.TestSupport;

/// <summary>
/// A real dockerd (Debian's docker.io) running inside a simulated host namespace of a <see cref="Testbed"/>, with its
/// own data root, exec root, socket, pid file and cgroup parent, all named after the host namespace (unique per
/// testbed), and a small busybox image (<see cref="Image"/>) imported from the host's busybox-static binary.
/// </summary>
/// <remarks>
/// <c>ip netns exec</c> mounts a fresh /sys, which hides /sys/fs/cgroup, and dockerd refuses to start without the
/// devices cgroup: a wrapper script (in the mount namespace <c>ip netns exec</c> made, so nothing leaks out) mounts the
/// host's cgroup hierarchies again and then execs dockerd, so the process started is dockerd itself. Dispose removes
/// every container (<c>docker rm -f</c>: a <c>sleep</c> ignores SIGTERM), stops dockerd by its pid (SIGTERM, then
/// SIGKILL after 10 s), removes the cgroup directories it left and its directories. dockerd is never started in the
/// root namespace: it would set FORWARD DROP and masquerade rules there.
/// </remarks>
public sealed class DockerHost : IAsyncDisposable
{
    public const string Image = "local/busybox";

    /// <summary>The docker.io daemon and client (a /usr/local/bin/docker of another Docker may shadow the client on PATH).</summary>
    public static string DockerdPath => Resolve("dockerd", "/usr/sbin/dockerd", "/usr/bin/dockerd");

    public static string DockerPath => Resolve("docker", "/usr/bin/docker");

    private const string WrapperScript = """
        #!/bin/sh
        # Run by `ip netns exec NS sh THIS dockerd ...`: mounts the cgroup hierarchies of the host again (ip netns exec
        # mounted a fresh /sys in its own mount namespace), then execs dockerd.
        set -e
        if awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/1/mounts; then
          # cgroup v1 or hybrid: a tmpfs with every hierarchy (and the cgroup2 one of a hybrid host) mounted as on the host.
          mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
          awk '($3 == "cgroup" || $3 == "cgroup2") && $2 ~ "^/sys/fs/cgroup/" { print $3, $2, $4 }' /proc/1/mounts |
          while read -r type dir opts; do
            mkdir -p "$dir"
            mount -t "$type" -o "$opts" "$type" "$dir"
          done
        else
          mount -t cgroup2 cgroup2 /sys/fs/cgroup
        fi
        exec "$@"
        """;

    private readonly Testbed _bed;
    private readonly string _dir;
    private Process? _dockerd;
    private int _disposed;

    private DockerHost(Testbed bed, string hostNs)
    {
        _bed = bed;
        HostNs = hostNs;
        Name = hostNs + "d";
        _dir = Path.Combine(bed.Directory, Name);
    }

    public string HostNs { get; }

    /// <summary>The cgroup parent and the stem of every path of this daemon.</summary>
    public string Name { get; }

    public string Socket => Path.Combine(_dir, "docker.sock");

    /// <summary>dockerd's output (standard output and error).</summary>
    public string Log => _dockerd is null ? "" : _bed.LogOf(_dockerd);

    /// <summary>
    /// Runs scripts/mk-docker-opts.sh (the real one, with /bin/sh, inside the host namespace: it checks that host's
    /// routes) on flanneld's subnet file and returns the options of its DOCKER_OPTS, one argument each.
    /// </summary>
    public static IReadOnlyList<string> OptionsFromSubnetEnv(string hostNs, string script, string subnetEnv, string outFile)
    {
        Testbed.Exec(hostNs, ["sh", script, "-f", subnetEnv, "-d", outFile]);
        string line = File.ReadAllLines(outFile).Single(l => l.StartsWith("DOCKER_OPTS=", StringComparison.Ordinal));
        return line["DOCKER_OPTS=".Length..].Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Starts dockerd in <paramref name="hostNs"/> with <paramref name="options"/> (e.g. what mk-docker-opts.sh wrote),
    /// waits until it answers (30 s at most) and imports the busybox image. On failure everything is removed again.
    /// </summary>
    public static async Task<DockerHost> StartAsync(Testbed bed, string hostNs, IEnumerable<string> options)
    {
        var host = new DockerHost(bed, hostNs);
        try
        {
            await host.StartDaemonAsync(options);
            host.ImportImage();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private async Task StartDaemonAsync(IEnumerable<string> options)
    {
        Directory.CreateDirectory(_dir);
        string wrapper = Path.Combine(_dir, "dockerd-in-netns.sh");
        File.WriteAllText(wrapper, WrapperScript + "\n");
        _dockerd = _bed.Start(HostNs, "sh",
        [
            wrapper, DockerdPath,
            "--data-root", Path.Combine(_dir, "data"),
            "--exec-root", Path.Combine(_dir, "exec"),
            "--pidfile", Path.Combine(_dir, "dockerd.pid"),
            "-H", "unix://" + Socket,
            "--cgroup-parent=/" + Name,
            "--iptables=true",
            .. options,
        ], logName: Name);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Docker(false, "info").ExitCode != 0)
        {
            if (_dockerd.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"dockerd in {HostNs} did not become ready ({(_dockerd.HasExited ? "it exited" : "30 s")}):\n{Log}");
            }
            await Task.Delay(100);
        }
    }

    private void ImportImage() => Docker(true, "import", WriteBusyboxImage(_dir), Image);

    /// <summary>
    /// Writes <c>DIR/rootfs.tar</c>, the root filesystem of <see cref="Image"/> (for <c>docker import</c>): the host's
    /// static busybox, its applets as symlinks, /etc/passwd and /etc/group. Returns the tar's path.
    /// </summary>
    public static string WriteBusyboxImage(string dir)
    {
        string busybox = Resolve("busybox", "/bin/busybox", "/usr/bin/busybox");
        string rootfs = Path.Combine(dir, "rootfs");
        foreach (var d in (string[])["bin", "etc", "tmp", "proc", "sys", "dev", "root"])
        {
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        }
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in Command.Run(busybox, "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string link = Path.Combine(rootfs, "bin", applet);
            if (applet != "busybox" && !File.Exists(link))
            {
                File.CreateSymbolicLink(link, "busybox");
            }
        }
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
        string tar = Path.Combine(dir, "rootfs.tar");
        Command.Run("tar", "-C", rootfs, "-cf", tar, ".");
        return tar;
    }

    /// <summary><c>docker -H unix://SOCKET args...</c> (the client runs in the root namespace; only the socket matters).</summary>
    public CommandResult Docker(bool check, params string[] args)
    {
        var r = Command.TryRun(DockerPath, ["-H", "unix://" + Socket, .. args]);
        return !check || r.ExitCode == 0 ? r : throw new InvalidOperationException(r.ToString());
    }

    /// <summary>Starts a detached container of <see cref="Image"/> running <paramref name="command"/>; returns its id.</summary>
    public string RunContainer(string name, params string[] command) =>
        Docker(true, ["run", "-d", "--name", name, Image, .. command]).Stdout.Trim();

    /// <summary><c>docker exec NAME command...</c>; a non-zero exit is an exception unless <paramref name="check"/> is false.</summary>
    public CommandResult Exec(string name, string[] command, bool check = true) => Docker(check, ["exec", name, .. command]);

    /// <summary>The container's address on the docker0 bridge (docker inspect).</summary>
    public string ContainerIp(string name) =>
        Docker(true, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).Stdout.Trim();

    /// <summary>
    /// True when, once a first echo has come back from inside the container (within 10 s: fresh bridges, neighbour
    /// entries and routes settle), all of <paramref name="count"/> pings get answers.
    /// </summary>
    public bool Ping(string container, string address, int count = 3)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Exec(container, ["ping", "-c", "1", "-W", "1", address], check: false).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
        }
        var r = Exec(container, ["ping", "-c", count.ToString(CultureInfo.InvariantCulture), "-W", "2", address], check: false);
        return r.ExitCode == 0 && r.Stdout.Contains($"{count} packets received", StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_dockerd is not null)
        {
            if (!_dockerd.HasExited)
            {
                var ids = Docker(false, "ps", "-aq").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                {
                    Docker(false, ["rm", "-f", .. ids]);
                }
            }
            await StopAsync(_dockerd.Id, _dockerd);
            // dockerd stops the containerd it started; should it have been killed, containerd is stopped here.
            if (ReadPid(Path.Combine(_dir, "exec", "containerd", "containerd.pid")) is int containerd && CommandLineMentions(containerd, _dir))
            {
                await StopAsync(containerd, null);
            }
        }
        // The cgroups dockerd made under its parent, deepest first (only empty ones can go).
        foreach (var hierarchy in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            string parent = Path.Combine(hierarchy, Name);
            if (Directory.Exists(parent))
            {
                foreach (var dir in Directory.GetDirectories(parent, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(parent))
                {
                    try
                    {
                        Directory.Delete(dir);
                    }
                    catch (IOException)
                    {
                    }
                }
            }
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>SIGTERM to this pid, SIGKILL after 10 s.</summary>
    private static async Task StopAsync(int pid, Process? process)
    {
        string id = pid.ToString(CultureInfo.InvariantCulture);
        if (!IsAlive(pid, process))
        {
            return;
        }
        Command.TryRun("kill", "-TERM", id);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (IsAlive(pid, process) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        if (IsAlive(pid, process))
        {
            Command.TryRun("kill", "-KILL", id);
            if (process is not null)
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    private static bool IsAlive(int pid, Process? process) =>
        process is not null ? !process.HasExited : File.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");

    /// <summary>Whether the process's command line names <paramref name="path"/>: a pid from a file may have been reused.</summary>
    private static bool CommandLineMentions(int pid, string path)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Contains(path, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int? ReadPid(string file) =>
        File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;

    private static string Resolve(string what, params string[] candidates) =>
        candidates.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"{what} not found at {string.Join(" or ", candidates)} (scripts/test.sh installs docker.io and busybox-static)");
}
