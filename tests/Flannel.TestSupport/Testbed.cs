using System.Diagnostics;
using System.Globalization;

namespace Flannel.TestSupport;

/// <summary>
/// Simulated Docker hosts in network namespaces: a switch namespace with a bridge on the underlay 198.51.100.0/24 that
/// also runs etcd (at 198.51.100.254), and host namespaces joined to it by veth pairs (198.51.100.N on eth0). Every
/// namespace name starts with a prefix unique to this testbed; all of them, and every process started here, are removed
/// (by pid) on dispose.
/// </summary>
public sealed class Testbed : IAsyncDisposable
{
    public const string EtcdAddress = "198.51.100.254";
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _processes = [];
    private readonly string _dir;

    private Testbed(string prefix, string dir)
    {
        Prefix = prefix;
        _dir = dir;
    }

    /// <summary>Unique per testbed: namespaces are named <c>{Prefix}sw</c>, <c>{Prefix}h1</c>, ...</summary>
    public string Prefix { get; }

    public string SwitchNs => Prefix + "sw";

    public string Directory => _dir;

    public int EtcdPort { get; private set; }

    /// <summary>The testbed's etcd (a fault test may SIGSTOP/SIGCONT it by this pid).</summary>
    public Process? EtcdProcess { get; private set; }

    public string EtcdEndpoint => $"http://{EtcdAddress}:{EtcdPort}";

    /// <param name="etcdArgs">More flags for the testbed's etcd, e.g. <c>--enable-v2</c>.</param>
    public static async Task<Testbed> CreateAsync(params string[] etcdArgs)
    {
        string prefix = "fcs" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        var bed = new Testbed(prefix, System.IO.Directory.CreateTempSubdirectory("flannel-testbed-").FullName);
        try
        {
            bed.AddNamespace(bed.SwitchNs);
            Ip(bed.SwitchNs, "link", "add", "br0", "type", "bridge");
            Ip(bed.SwitchNs, "addr", "add", $"{EtcdAddress}/24", "dev", "br0");
            Ip(bed.SwitchNs, "link", "set", "br0", "up");
            Ip(bed.SwitchNs, "link", "set", "lo", "up");
            await bed.StartEtcdAsync(etcdArgs);
            return bed;
        }
        catch
        {
            await bed.DisposeAsync();
            throw;
        }
    }

    private void AddNamespace(string name)
    {
        Command.Run("ip", "netns", "add", name);
        _namespaces.Add(name);
    }

    public static string Ip(string ns, params string[] args) => Command.Run("ip", ["-n", ns, .. args]);

    /// <summary>Runs a command inside a namespace; a failure is an exception unless <paramref name="check"/> is false.</summary>
    public static CommandResult Exec(string ns, string[] command, bool check = true) =>
        check ? new CommandResult("", 0, Command.Run("ip", ["netns", "exec", ns, .. command]), "") : Command.TryRun("ip", ["netns", "exec", ns, .. command]);

    /// <summary>A simulated host: namespace <c>{Prefix}h{n}</c> with eth0 = 198.51.100.{n}/24 on the switch, forwarding on.</summary>
    public string AddHost(int n)
    {
        string ns = $"{Prefix}h{n}";
        AddNamespace(ns);
        string outside = $"{Prefix}v{n}"; // veth names are limited to 15 characters
        Command.Run("ip", "link", "add", outside, "netns", SwitchNs, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip(SwitchNs, "link", "set", outside, "master", "br0");
        Ip(SwitchNs, "link", "set", outside, "up");
        Ip(ns, "addr", "add", $"198.51.100.{n}/24", "dev", "eth0");
        Ip(ns, "link", "set", "eth0", "up");
        Ip(ns, "link", "set", "lo", "up");
        Exec(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        return ns;
    }

    /// <summary>
    /// What dockerd would do with the subnet.env values: a bridge with the .1 address and the MTU, and a "container"
    /// namespace <c>{host}c</c> with the .2 address and a default route via the bridge.
    /// </summary>
    /// <param name="suffix">
    /// Tells apart the containers of several networks on one host: namespace <c>{host}c{suffix}</c>, bridge
    /// <c>cbr{suffix}</c> and veth <c>vc{suffix}</c> (<c>cbr0</c> and <c>vc0</c> without one).
    /// </param>
    public string AddContainer(string hostNs, string flannelSubnet, int mtu, string suffix = "")
    {
        // flannelSubnet is FLANNEL_SUBNET, e.g. 10.0.9.1/24; the container gets .2.
        var (bridgeAddress, prefix) = (flannelSubnet.Split('/')[0], flannelSubnet.Split('/')[1]);
        string containerAddress = ContainerAddress(flannelSubnet);
        string ns = hostNs + "c" + suffix;
        string bridge = suffix.Length == 0 ? "cbr0" : "cbr" + suffix, veth = suffix.Length == 0 ? "vc0" : "vc" + suffix;
        AddNamespace(ns);
        string mtuText = mtu.ToString(CultureInfo.InvariantCulture);
        Ip(hostNs, "link", "add", bridge, "type", "bridge");
        Ip(hostNs, "addr", "add", flannelSubnet, "dev", bridge);
        Ip(hostNs, "link", "set", bridge, "mtu", mtuText, "up");
        Ip(hostNs, "link", "add", veth, "mtu", mtuText, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip(hostNs, "link", "set", veth, "master", bridge);
        Ip(hostNs, "link", "set", veth, "up");
        Ip(ns, "addr", "add", $"{containerAddress}/{prefix}", "dev", "eth0");
        Ip(ns, "link", "set", "eth0", "mtu", mtuText, "up");
        Ip(ns, "link", "set", "lo", "up");
        Ip(ns, "route", "add", "default", "via", bridgeAddress);
        return ns;
    }

    /// <summary>
    /// A dual-stack underlay for host <paramref name="n"/>: eth0 also gets 2001:db8:100::{n}/64 and the host forwards
    /// IPv6. nodad: the address is usable at once (duplicate address detection would hold it tentative for a second).
    /// </summary>
    public static void AddHostIpv6(string hostNs, int n)
    {
        Ip(hostNs, "-6", "addr", "add", $"2001:db8:100::{n}/64", "dev", "eth0", "nodad");
        Exec(hostNs, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    }

    /// <summary>
    /// What dockerd with <c>--ipv6 --fixed-cidr-v6</c> would add to <see cref="AddContainer"/>'s bridge and container:
    /// the bridge gets FLANNEL_IPV6_SUBNET (the subnet's ::1), the container the next address and a default route via it.
    /// Returns the container's IPv6 address.
    /// </summary>
    public static string AddContainerIpv6(string hostNs, string containerNs, string flannelIpv6Subnet, string bridge = "cbr0")
    {
        var (bridgeAddress, prefix) = (flannelIpv6Subnet.Split('/')[0], flannelIpv6Subnet.Split('/')[1]);
        string address = ContainerAddress6(flannelIpv6Subnet);
        Ip(hostNs, "-6", "addr", "add", flannelIpv6Subnet, "dev", bridge, "nodad");
        Ip(containerNs, "-6", "addr", "add", $"{address}/{prefix}", "dev", "eth0", "nodad");
        Ip(containerNs, "-6", "route", "add", "default", "via", bridgeAddress);
        return address;
    }

    /// <summary>The address after FLANNEL_IPV6_SUBNET's (2001:db8:52:7::1/64 gives 2001:db8:52:7::2).</summary>
    public static string ContainerAddress6(string flannelIpv6Subnet)
    {
        var ip = Flannel.Subnet.Ip.Ip6Address.Parse(flannelIpv6Subnet.Split('/')[0]);
        return new Flannel.Subnet.Ip.Ip6Address(ip.Value + 1).ToString();
    }

    public static string ContainerAddress(string flannelSubnet)
    {
        var parts = flannelSubnet.Split('/')[0].Split('.');
        parts[3] = (int.Parse(parts[3], CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
        return string.Join('.', parts);
    }

    /// <summary>Addresses and routes of a host and its container, for failure messages.</summary>
    public static string Diagnose(string hostNs, string containerNs) =>
        $"[{hostNs}]\n{Ip(hostNs, "-br", "addr")}{Ip(hostNs, "route")}[{containerNs}]\n{Ip(containerNs, "-br", "addr")}{Ip(containerNs, "route")}" +
        Exec(containerNs, ["ping", "-c", "1", "-W", "1", EtcdAddress], check: false).Stdout;

    /// <summary>
    /// True when, once a first echo has come back (within 10 s: fresh bridges and neighbour entries settle), all of
    /// <paramref name="count"/> pings get answers.
    /// </summary>
    public static bool Ping(string ns, string address, int count = 3)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Exec(ns, ["ping", "-c", "1", "-W", "1", address], check: false).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
        }
        var r = Exec(ns, ["ping", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", address], check: false);
        return r.ExitCode == 0 && r.Stdout.Contains($"{count} received", StringComparison.Ordinal);
    }

    /// <summary>Starts a process in a namespace; it is killed (by pid) on dispose if still running.</summary>
    public Process Start(string ns, string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? logName = null)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["netns", "exec", ns, file, .. args])
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file} in {ns}");
        _processes.Add(p);
        string log = Path.Combine(_dir, (logName ?? Path.GetFileName(file)) + $"-{p.Id}.log");
        _ = Pump(p.StandardOutput, log);
        _ = Pump(p.StandardError, log);
        return p;
    }

    private static readonly object LogLock = new();

    private static async Task Pump(StreamReader r, string path)
    {
        string? line;
        while ((line = await r.ReadLineAsync()) is not null)
        {
            lock (LogLock)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    public string LogOf(Process p, string? logName = null)
    {
        lock (LogLock)
        {
            var files = System.IO.Directory.GetFiles(_dir, $"*-{p.Id}.log");
            return files.Length == 0 ? "" : File.ReadAllText(files[0]);
        }
    }

    private async Task StartEtcdAsync(string[] extraArgs)
    {
        EtcdPort = 2379;
        string client = EtcdEndpoint, peer = $"http://{EtcdAddress}:2380";
        EtcdProcess = Start(SwitchNs, EtcdServer.Binary,
        [
            "--name", "bed", "--data-dir", Path.Combine(_dir, "etcd"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"bed={peer}", "--log-level", "warn", "--logger", "zap", .. extraArgs,
        ], logName: "etcd");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Etcdctl(false, "endpoint", "health").ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("etcd in the testbed did not become healthy");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>etcdctl (v3 API) against the testbed's etcd, run in the switch namespace.</summary>
    public CommandResult Etcdctl(bool check, params string[] args) =>
        Exec(SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", EtcdEndpoint, .. args], check);

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
            }
            p.Dispose();
        }
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            Command.TryRun("ip", "netns", "delete", ns);
        }
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
