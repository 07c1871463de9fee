using System.Diagnostics;
using System.Globalization;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>The published flanneld running on a testbed host, with its subnet file.</summary>
internal sealed record TestDaemon(Process Process, string SubnetFile)
{
    /// <param name="name">Tells apart the subnet files of several daemons on one host (<c>{host}{name}.env</c>).</param>
    public static TestDaemon Start(Testbed bed, string hostNs, string prefix, string[]? extra = null, IDictionary<string, string>? env = null,
        string name = "")
    {
        string subnetFile = Path.Combine(bed.Directory, hostNs + name + ".env");
        var environment = WithoutSystemBus(bed, env);
        var p = bed.Start(hostNs, FlanneldBinary.Path,
            ["--etcd-endpoints", bed.EtcdEndpoint, $"-etcd-prefix={prefix}", "--iface=eth0", "--subnet-file", subnetFile, .. extra ?? []],
            environment, logName: hostNs + name + "-flanneld");
        return new TestDaemon(p, subnetFile);
    }

    /// <summary>
    /// The daemon's environment with DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist, unless the test gives one:
    /// a network namespace does not hide unix sockets, so on a machine with a system bus every test daemon would
    /// otherwise change that machine's firewalld and NetworkManager. Tests of that integration pass their private bus.
    /// </summary>
    public static Dictionary<string, string> WithoutSystemBus(Testbed bed, IDictionary<string, string>? env = null)
    {
        var environment = new Dictionary<string, string>(env ?? new Dictionary<string, string>());
        environment.TryAdd("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + Path.Combine(bed.Directory, "no-system-bus"));
        return environment;
    }

    /// <summary>Waits for subnet.env (30 s at most) and returns its variables.</summary>
    public async Task<Dictionary<string, string>> WaitForSubnetEnvAsync(Testbed bed)
    {
        await Wait.UntilAsync(() => File.Exists(SubnetFile) || Process.HasExited, TimeSpan.FromSeconds(30), "subnet.env written");
        Assert.False(Process.HasExited, "flanneld exited: " + bed.LogOf(Process));
        return File.ReadAllLines(SubnetFile).Where(l => l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    }

    /// <summary>SIGTERM, then the exit code; flanneld must exit within 5 s.</summary>
    public async Task<int> StopAsync()
    {
        Command.Run("kill", "-TERM", Process.Id.ToString(CultureInfo.InvariantCulture));
        await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        return Process.ExitCode;
    }

    /// <summary>The subnet of a FLANNEL_SUBNET value: 10.0.9.1/24 -> 10.0.9.0/24.</summary>
    public static string NetworkOf(string flannelSubnet)
    {
        var parts = flannelSubnet.Split('/');
        var octets = parts[0].Split('.');
        octets[3] = (int.Parse(octets[3], CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture);
        return string.Join('.', octets) + "/" + parts[1];
    }
}
