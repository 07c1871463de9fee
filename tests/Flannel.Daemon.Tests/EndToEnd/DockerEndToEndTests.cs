using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The whole chain with a real Docker on each of two simulated hosts: the published flanneld with <c>--ip-masq</c>
/// writes subnet.env, the real scripts/mk-docker-opts.sh turns it into dockerd options (<c>--bip</c>, <c>--mtu</c>,
/// <c>--ip-masq=false</c>), a real dockerd (Debian's docker.io) runs in each host namespace with them, and busybox
/// containers on the two hosts ping each other at the addresses Docker gave them. Docker sets the FORWARD policy to
/// DROP, so this only works with flanneld's forward rules; the container on the other host sees the sender's own
/// address (no masquerading inside the Network), while a connection to an underlay address outside the Network is
/// masqueraded to the host's address by flanneld (Docker's own masquerading is off). Needs root and docker.io,
/// busybox-static and iptables (scripts/test.sh installs them).
/// </summary>
[NeedsRoot, NeedsEtcd, NeedsDocker]
public sealed class DockerEndToEndTests(ITestOutputHelper output)
{
    private const string Outside = "198.51.100.9";
    private const int OutsidePort = 7001, ContainerPort = 7000;

    [Theory]
    [InlineData("udp", "10.80.0.0/16")]
    [InlineData("vxlan", "10.81.0.0/16")]
    [InlineData("host-gw", "10.82.0.0/16")]
    public async Task Docker_containers_on_two_hosts_reach_each_other_and_the_outside_is_masqueraded(string backend, string network)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await RunAsync(backend, network);
        }
        finally
        {
            output.WriteLine($"{backend}: {clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    private async Task RunAsync(string backend, string network)
    {
        string prefix = $"/e2e-docker-{backend}/network";
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", prefix + "/config", $$$"""{"Network":"{{{network}}}","Backend":{"Type":"{{{backend}}}"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2), outside = bed.AddHost(9);
        // As on a freshly booted host: forwarding off until dockerd turns it on, and then dockerd also sets the
        // FORWARD policy to DROP (it leaves the policy alone where forwarding was on already).
        foreach (var h in (string[])[h1, h2])
        {
            Testbed.Exec(h, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
        }

        var d1 = TestDaemon.Start(bed, h1, prefix, ["--ip-masq"]);
        var d2 = TestDaemon.Start(bed, h2, prefix, ["--ip-masq"]);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        Assert.Equal("true", env1["FLANNEL_IPMASQ"]);

        var opts1 = DockerHost.OptionsFromSubnetEnv(h1, Repo.MkDockerOpts, d1.SubnetFile, Path.Combine(bed.Directory, "h1.docker"));
        var opts2 = DockerHost.OptionsFromSubnetEnv(h2, Repo.MkDockerOpts, d2.SubnetFile, Path.Combine(bed.Directory, "h2.docker"));
        output.WriteLine($"host 1 dockerd {string.Join(' ', opts1)}; host 2 dockerd {string.Join(' ', opts2)}");
        Assert.Equal([$"--bip={env1["FLANNEL_SUBNET"]}", "--ip-masq=false", $"--mtu={env1["FLANNEL_MTU"]}"], opts1);

        await using var docker1 = await DockerHost.StartAsync(bed, h1, opts1);
        await using var docker2 = await DockerHost.StartAsync(bed, h2, opts2);
        foreach (var h in (string[])[h1, h2])
        {
            Assert.Contains("-P FORWARD DROP", Testbed.Exec(h, ["iptables", "-S", "FORWARD"]).Stdout, StringComparison.Ordinal);
        }
        docker1.RunContainer("c1", "sleep", "3600");
        docker2.RunContainer("c2", "sleep", "3600");
        string a1 = docker1.ContainerIp("c1"), a2 = docker2.ContainerIp("c2");
        output.WriteLine($"container 1 {a1} on host 1, container 2 {a2} on host 2");
        // Docker took the subnet and MTU flanneld leased.
        Assert.Equal(Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a1);
        Assert.Equal(Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]), a2);
        Assert.Contains($"mtu {env1["FLANNEL_MTU"]}", docker1.Exec("c1", ["ip", "link", "show", "eth0"]).Stdout, StringComparison.Ordinal);

        string Diagnose() =>
            $"\n[host 1 filter]\n{Testbed.Exec(h1, ["iptables", "-S"], check: false).Stdout}[host 1 nat]\n{Testbed.Exec(h1, ["iptables", "-t", "nat", "-S"], check: false).Stdout}" +
            $"[host 2 filter]\n{Testbed.Exec(h2, ["iptables", "-S"], check: false).Stdout}[host 1 routes]\n{Testbed.Ip(h1, "route")}[host 2 routes]\n{Testbed.Ip(h2, "route")}" +
            $"[flanneld 1]\n{bed.LogOf(d1.Process)}\n[flanneld 2]\n{bed.LogOf(d2.Process)}";

        Assert.True(docker1.Ping("c1", a2), $"container 1 -> container 2 ({a2}){Diagnose()}");
        Assert.True(docker2.Ping("c2", a1), $"container 2 -> container 1 ({a1}){Diagnose()}");

        // Inside the Network the receiver sees the sender container's own address: container 2 answers a connection
        // with its netstat, which names the peer.
        docker2.Docker(true, "exec", "-d", "c2", "nc", "-ll", "-p", ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-e", "netstat", "-tn");
        string? seen = null;
        await Wait.UntilAsync(() => (seen = PeerOf(docker1.Exec("c1", ["sh", "-c", $"nc -w 3 {a2} {ContainerPort} </dev/null"], check: false).Stdout)) is not null,
            TimeSpan.FromSeconds(15), "container 1 connects to container 2's listener");
        Assert.True(seen == a1, $"container 2 saw the connection from {seen}, not from container 1's {a1}{Diagnose()}");

        // Outside the Network flanneld masquerades: the outside world sees host 1's underlay address.
        var outsideSaw = ListenOnce(outside);
        await outsideSaw.Listening.WaitAsync(TimeSpan.FromSeconds(10));
        var connect = docker1.Exec("c1", ["sh", "-c", $"echo hello | nc -w 5 {Outside} {OutsidePort}"], check: false);
        Assert.True(connect.ExitCode == 0, $"container 1 could not reach {Outside}: {connect}{Diagnose()}");
        var source = await outsideSaw.Source.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(source == "198.51.100.1", $"the outside saw {source}, not host 1's 198.51.100.1{Diagnose()}");

        output.WriteLine($"[host 1: docker ps]\n{docker1.Docker(true, "ps").Stdout}[host 2: docker ps]\n{docker2.Docker(true, "ps").Stdout}");
        // Containers removed and both dockerd stopped (at once: each takes a few seconds) before flanneld stops.
        await Task.WhenAll(docker1.DisposeAsync().AsTask(), docker2.DisposeAsync().AsTask());
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    /// <summary>The peer address of the connection to the listener in busybox <c>netstat -tn</c> output, or null.</summary>
    private static string? PeerOf(string netstat)
    {
        foreach (var line in netstat.Split('\n'))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length >= 5 && columns[0].StartsWith("tcp", StringComparison.Ordinal) && columns[3].EndsWith($":{ContainerPort}", StringComparison.Ordinal))
            {
                string foreign = columns[4];
                foreign = foreign[..foreign.LastIndexOf(':')];
                return foreign.StartsWith("::ffff:", StringComparison.Ordinal) ? foreign["::ffff:".Length..] : foreign;
            }
        }
        return null;
    }

    private sealed record Listener(Task Listening, Task<string> Source);

    /// <summary>A TCP listener at <see cref="Outside"/> in the outside namespace; the source address of its first connection.</summary>
    private static Listener ListenOnce(string ns)
    {
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = Task.Run(() => NetNs.RunIn(ns, () =>
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(new IPEndPoint(IPAddress.Parse(Outside), OutsidePort));
                listener.Listen();
            }
            catch (SocketException e)
            {
                listening.SetException(e);
                throw;
            }
            listening.SetResult();
            if (!listener.Poll(TimeSpan.FromSeconds(20), SelectMode.SelectRead))
            {
                return "(no connection within 20 s)";
            }
            using var accepted = listener.Accept();
            accepted.Send("ok\n"u8);
            accepted.Shutdown(SocketShutdown.Both);
            return ((IPEndPoint)accepted.RemoteEndPoint!).Address.ToString();
        }));
        return new Listener(listening.Task, source);
    }
}
