using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Flannel.TestSupport;

/// <summary>
/// A simulated host that runs a real systemd: <c>systemd-nspawn --boot</c> of a Debian 12 tree
/// (scripts/nspawn-tree.sh) with a volatile overlay (the tree is never written; every change goes to a tmpfs and is
/// gone when the host stops), inside a network namespace made elsewhere (a <see cref="Testbed"/> host: eth0 on the
/// underlay). Commands run inside with <c>nsenter -t INIT -a</c>, as a root shell on that host would run them.
/// </summary>
/// <remarks>
/// <para>Over 400 lines on purpose: booting, running commands in, watching and tearing down one systemd host share its
/// state (pids, the machine name, the overlay), and every exit path must reach the same clean-up.</para>
/// <para>The recipe and its pitfalls are in ../shared/notes/systemd-in-nspawn.md. In short:</para>
/// <list type="bullet">
/// <item><c>--register=no --keep-unit</c>: there is no systemd (no machined, no system bus) on the machine running the
/// tests. nspawn then makes its <c>payload/</c> and <c>supervisor/</c> cgroups under the caller's, so a wrapper first
/// moves itself into a cgroup named after the host (<see cref="Name"/>) in the name=systemd and unified
/// hierarchies; dispose removes them again.</item>
/// <item><c>--capability=all</c> (with <c>--network-namespace-path</c> nspawn keeps CAP_NET_ADMIN back, and flanneld,
/// iptables and dockerd need it) and <c>SYSTEMD_NSPAWN_API_VFS_WRITABLE=network</c> (/proc/sys/net writable: forwarding,
/// rp_filter).</item>
/// <item><c>--tmpfs=/var/lib/docker</c> (overlay2 cannot stack on the overlay root), <c>--system-call-filter=@keyring</c>
/// (runc makes a session keyring) and <c>cgroup-parent</c> in a bound /etc/docker/daemon.json: runc creates its cgroups
/// in the machine's v1 hierarchies, so the parent, <see cref="DockerCgroupParent"/>, is unique per host and removed on
/// dispose. The tree's containerd drop-in remounts the v1 controllers read-write for runc.</item>
/// <item>A bound /etc/hostname (the tree's is the machine's; <c>-M</c> does not change what systemd sets).</item>
/// </list>
/// <para>
/// Dispose removes docker's containers (a <c>sleep</c> ignores SIGTERM and would hold the shutdown for dockerd's
/// timeout), sends SIGTERM to nspawn (the container's systemd halts cleanly in about 2 s), SIGKILL to the container's
/// init and then nspawn after 30 s, and removes the cgroup directories and the host's directory. Hosts still running when
/// the test process exits are killed then, as a last resort.
/// </para>
/// </remarks>
public sealed class NspawnHost : IAsyncDisposable
{
    private const string CleanPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static readonly ConcurrentDictionary<NspawnHost, byte> Live = new();
    private readonly string _dir;
    private readonly string _consoleLog;
    private readonly object _consoleLock = new();
    private readonly List<Process> _processes = [];
    private Process? _nspawn;
    private int _disposed;

    static NspawnHost()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var host in Live.Keys)
            {
                host.Kill();
                host.RemoveCgroups();
            }
        };
    }

    private NspawnHost(string netNs, string dir)
    {
        NetNs = netNs;
        Name = netNs;
        _dir = dir;
        _consoleLog = System.IO.Path.Combine(dir, "console.log");
    }

    /// <summary>The network namespace the host runs in.</summary>
    public string NetNs { get; }

    /// <summary>Machine name, host name (/etc/hostname) and cgroup name: the network namespace's name, unique per run.</summary>
    public string Name { get; }

    /// <summary>dockerd's <c>cgroup-parent</c> in this host (in /etc/docker/daemon.json).</summary>
    public string DockerCgroupParent => Name + "d";

    /// <summary>The pid of systemd-nspawn (SIGTERM to it shuts the host down).</summary>
    public int NspawnPid => _nspawn?.Id ?? 0;

    /// <summary>The pid (in the machine's pid namespace) of the host's systemd.</summary>
    public int InitPid { get; private set; }

    /// <summary>The host's root directory as seen from outside (the overlay, writable).</summary>
    public string Root => string.Create(CultureInfo.InvariantCulture, $"/proc/{InitPid}/root");

    /// <summary>How long the boot took, until <c>systemctl is-system-running</c> said running (or degraded).</summary>
    public TimeSpan BootTime { get; private set; }

    /// <summary>What nspawn and the container's console printed.</summary>
    public string ConsoleLog
    {
        get
        {
            lock (_consoleLock)
            {
                return File.Exists(_consoleLog) ? File.ReadAllText(_consoleLog) : "";
            }
        }
    }

    /// <summary>
    /// The tree scripts/nspawn-tree.sh prints (built on first use, about a minute, and cached; see that script).
    /// </summary>
    public static string Tree(string repoRoot)
    {
        var r = Command.TryRun(System.IO.Path.Combine(repoRoot, "scripts", "nspawn-tree.sh"), [], null, timeout: TimeSpan.FromMinutes(10));
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"scripts/nspawn-tree.sh could not provide the Debian tree (it needs root, debootstrap and the Debian mirror):\n{r}");
        }
        return r.Stdout.Trim().Split('\n')[^1];
    }

    /// <summary>
    /// Boots <paramref name="tree"/> in network namespace <paramref name="netNs"/> and waits (60 s at most) until its
    /// systemd reports the system running. On failure everything is removed again.
    /// </summary>
    /// <param name="binds">More read-only bind mounts, host path to path inside.</param>
    public static async Task<NspawnHost> BootAsync(string tree, string netNs, string parentDirectory, IEnumerable<(string Source, string Target)>? binds = null)
    {
        string dir = System.IO.Path.Combine(parentDirectory, "nspawn-" + netNs);
        Directory.CreateDirectory(dir);
        var host = new NspawnHost(netNs, dir);
        try
        {
            await host.StartAsync(tree, binds ?? []);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(string tree, IEnumerable<(string Source, string Target)> binds)
    {
        string hostname = System.IO.Path.Combine(_dir, "hostname");
        File.WriteAllText(hostname, Name + "\n");
        string daemonJson = System.IO.Path.Combine(_dir, "daemon.json");
        File.WriteAllText(daemonJson, $$"""{ "cgroup-parent": "/{{DockerCgroupParent}}" }""" + "\n");
        string wrapper = System.IO.Path.Combine(_dir, "nspawn-in-cgroup.sh");
        File.WriteAllText(wrapper, $$"""
            #!/bin/sh
            # Moves itself into cgroups of its own (nspawn --keep-unit puts payload/ and supervisor/ under the caller's
            # cgroup), then becomes systemd-nspawn.
            set -e
            if [ -d /sys/fs/cgroup/systemd ]; then dirs="/sys/fs/cgroup/systemd/{{Name}}"; else dirs="/sys/fs/cgroup/{{Name}}"; fi
            if [ -d /sys/fs/cgroup/unified ]; then dirs="$dirs /sys/fs/cgroup/unified/{{Name}}"; fi
            for d in $dirs; do mkdir -p "$d"; echo $$ > "$d/cgroup.procs"; done
            export SYSTEMD_NSPAWN_API_VFS_WRITABLE=network
            exec systemd-nspawn "$@"

            """);
        string[] args =
        [
            wrapper,
            "--directory=" + tree, "--volatile=overlay", "--boot", "--register=no", "--keep-unit", "--console=pipe",
            "--machine=" + Name, "--network-namespace-path=/run/netns/" + NetNs,
            "--capability=all", "--system-call-filter=@keyring", "--tmpfs=/var/lib/docker",
            $"--bind-ro={hostname}:/etc/hostname", $"--bind-ro={daemonJson}:/etc/docker/daemon.json",
            .. binds.Select(b => $"--bind-ro={b.Source}:{b.Target}"),
        ];
        var psi = new ProcessStartInfo("sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var clock = Stopwatch.StartNew();
        _nspawn = Process.Start(psi) ?? throw new InvalidOperationException("systemd-nspawn did not start");
        Live[this] = 0;
        _ = Pump(_nspawn.StandardOutput);
        _ = Pump(_nspawn.StandardError);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        string state = "";
        while (true)
        {
            if (_nspawn.HasExited)
            {
                throw new InvalidOperationException($"systemd-nspawn for {Name} exited with {_nspawn.ExitCode} while booting:\n{ConsoleLog}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} did not boot in 60 s (systemctl is-system-running: {state}):\n{ConsoleLog}");
            }
            if (InitPid == 0)
            {
                InitPid = FindChild(_nspawn.Id, "systemd");
            }
            if (InitPid != 0)
            {
                // `is-system-running --wait` right after the start says "offline": poll instead.
                state = Exec(false, "systemctl", "is-system-running").Stdout.Trim();
                if (state is "running" or "degraded")
                {
                    break;
                }
            }
            await Task.Delay(100);
        }
        BootTime = clock.Elapsed;
        if (state == "degraded")
        {
            throw new InvalidOperationException($"{Name} booted degraded:\n{Exec(false, "systemctl", "--failed", "--no-pager").Stdout}\n{ConsoleLog}");
        }
    }

    private async Task Pump(StreamReader reader)
    {
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            lock (_consoleLock)
            {
                File.AppendAllText(_consoleLog, line + "\n");
            }
        }
    }

    /// <summary>
    /// Runs a command inside the host (all its namespaces, a clean environment with the usual PATH); a non-zero exit is
    /// an exception when <paramref name="check"/> is true.
    /// </summary>
    public CommandResult Exec(bool check, params string[] command) => Exec(check, TimeSpan.FromSeconds(120), command);

    public CommandResult Exec(bool check, TimeSpan timeout, params string[] command)
    {
        var r = Command.TryRun("nsenter", ["-t", InitPid.ToString(CultureInfo.InvariantCulture), "-a", "env", "-i", CleanPath, "LANG=C.UTF-8", "TERM=dumb", .. command], null, timeout: timeout);
        return !check || r.ExitCode == 0 ? r : throw new InvalidOperationException($"on {Name}: {r}");
    }

    /// <summary><c>sh -c SCRIPT</c> inside the host.</summary>
    public CommandResult Shell(bool check, string script) => Exec(check, "sh", "-c", script);

    /// <summary>
    /// Starts a command inside the host and returns it running; its standard output and error are read by the caller.
    /// It is killed (by pid) on dispose if still running.
    /// </summary>
    public Process Start(params string[] command)
    {
        var psi = new ProcessStartInfo("nsenter")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in (string[])["-t", InitPid.ToString(CultureInfo.InvariantCulture), "-a", "env", "-i", CleanPath, "LANG=C.UTF-8", .. command])
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {command[0]} in {Name}");
        p.StandardInput.Close();
        _processes.Add(p);
        return p;
    }

    /// <summary>Copies a file of the machine into the host (into the overlay, through <see cref="Root"/>).</summary>
    public void CopyIn(string source, string target)
    {
        string path = Root + target;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.Copy(source, path, overwrite: true);
    }

    /// <summary>A file of the host, read through <see cref="Root"/>.</summary>
    public string ReadFile(string path) => File.ReadAllText(Root + path);

    /// <summary>
    /// The state of <paramref name="units"/> for a failure message: systemctl status, the last lines of each unit's
    /// journal (read from outside with <c>journalctl -D</c>: that works even when the host's systemd does not answer),
    /// addresses, routes and the iptables rules. The first unit gets the longest excerpt of its journal.
    /// </summary>
    public string Diagnose(params string[] units)
    {
        if (InitPid == 0 || _nspawn is null or { HasExited: true })
        {
            return $"[{Name}: not running]\n{ConsoleLog}";
        }
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"===== {Name} (nspawn pid {NspawnPid}, init pid {InitPid})\n");
        sb.Append(Exec(false, ["systemctl", "status", "--no-pager", "-l", "-n", "0", .. units]).Stdout);
        foreach (var unit in units)
        {
            string lines = unit == units[0] ? "80" : "25";
            var journal = Command.TryRun("journalctl", ["-D", $"{Root}/var/log/journal", "--no-pager", "-u", unit, "-n", lines], null, timeout: TimeSpan.FromSeconds(30));
            sb.Append(CultureInfo.InvariantCulture, $"--- journalctl -u {unit}\n{journal.Stdout}{journal.Stderr}");
        }
        foreach (var command in (string[][])[["ip", "-br", "addr"], ["ip", "route"], ["iptables", "-S"], ["iptables", "-t", "nat", "-S"]])
        {
            var r = Exec(false, command);
            sb.Append(CultureInfo.InvariantCulture, $"--- {string.Join(' ', command)}\n{r.Stdout}{r.Stderr}");
        }
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (var p in _processes)
        {
            KillProcess(p);
        }
        if (_nspawn is not null)
        {
            if (!_nspawn.HasExited && InitPid != 0)
            {
                // docker's containers first: dockerd would wait 15 s for a `sleep` that ignores SIGTERM.
                Exec(false, TimeSpan.FromSeconds(30), "sh", "-c",
                    "systemctl -q is-active docker || exit 0; ids=$(docker ps -aq); [ -z \"$ids\" ] || docker rm -f $ids >/dev/null");
            }
            if (!_nspawn.HasExited)
            {
                Command.TryRun("kill", "-TERM", _nspawn.Id.ToString(CultureInfo.InvariantCulture));
                try
                {
                    await _nspawn.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException)
                {
                    Kill();
                    await _nspawn.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
        }
        Live.TryRemove(this, out _);
        RemoveCgroups();
        // nspawn leaves its propagation directory behind where /run is no tmpfs (it says it will not remove a disk
        // file system); it is empty by now.
        try
        {
            Directory.Delete($"/run/systemd/nspawn/propagate/{Name}", recursive: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        _nspawn?.Dispose();
    }

    /// <summary>SIGKILL to the container's init (which ends its whole pid namespace), then to nspawn.</summary>
    private void Kill()
    {
        if (InitPid != 0 && _nspawn is { HasExited: false } && FindChild(_nspawn.Id, "systemd") == InitPid)
        {
            Command.TryRun("kill", "-KILL", InitPid.ToString(CultureInfo.InvariantCulture));
        }
        if (_nspawn is { HasExited: false } n)
        {
            KillProcess(n);
        }
    }

    private static void KillProcess(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// Removes, deepest first, every cgroup directory named <see cref="Name"/> (nspawn's) or
    /// <see cref="DockerCgroupParent"/> (runc's) in any hierarchy: runc makes its cgroups relative to the container's
    /// cgroup namespace, which is the root of some hierarchies and the test process's cgroup in others.
    /// </summary>
    private void RemoveCgroups()
    {
        var roots = new List<string>();
        var pending = new Stack<string>(Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : []);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            string name = System.IO.Path.GetFileName(dir);
            if (name == Name || name == DockerCgroupParent)
            {
                roots.Add(dir);
                continue;
            }
            try
            {
                foreach (var sub in Directory.GetDirectories(dir))
                {
                    pending.Push(sub);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        foreach (var root in roots)
        {
            // Processes that just died may still be leaving their cgroups: a few tries.
            for (int attempt = 0; attempt < 20 && Directory.Exists(root); attempt++)
            {
                foreach (var dir in Directory.GetDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(root))
                {
                    try
                    {
                        Directory.Delete(dir);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                    }
                }
                if (Directory.Exists(root))
                {
                    Thread.Sleep(100);
                }
            }
        }
    }

    /// <summary>The pid of a child of <paramref name="parent"/> whose command is <paramref name="comm"/>, or 0.</summary>
    private static int FindChild(int parent, string comm)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
                string stat = File.ReadAllText(System.IO.Path.Combine(dir, "stat"));
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                var rest = stat[(close + 2)..].Split(' ');
                if (stat[(open + 1)..close] == comm && int.Parse(rest[1], CultureInfo.InvariantCulture) == parent)
                {
                    return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
            }
        }
        return 0;
    }
}
