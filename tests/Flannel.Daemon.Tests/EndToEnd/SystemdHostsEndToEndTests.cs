using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The operator's deployment, for real: two simulated hosts, each a Debian 12 booted with its own systemd
/// (<see cref="NspawnHost"/>: systemd-nspawn in a <see cref="Testbed"/> host namespace, eth0 on the underlay, etcd on
/// the switch) with Debian's docker.io installed but not started. On each host, as its operator would: the flannel-cs
/// .deb installed with <c>apt install ./flannel-cs_*.deb</c>, /etc/default/flanneld edited (etcd endpoint, interface,
/// masquerading), <c>systemctl enable --now flanneld</c> (Type=notify: subnet.env and, by ExecStartPost,
/// /run/docker_opts.env exist when it returns), <c>systemctl start docker</c> (our drop-in: docker0 on the leased
/// subnet with the flannel MTU), a busybox container on each host pinging the other, <c>journalctl -u flanneld -p
/// warning</c> showing the warning the network config provokes and no info line, <c>systemctl restart flanneld</c> on
/// both hosts under a running ping (a few packets lost at most, the same lease, dockerd and the containers untouched)
/// and <c>systemctl stop flanneld</c> ending cleanly. Needs root, systemd-container, debootstrap (and the Debian mirror
/// once, for the cached tree), docker.io, busybox-static, etcd and the published native flanneld in $FLANNELD_BINARY
/// (scripts/test.sh provides all of them).
/// </summary>
/// <remarks>
/// Runs alone (the timing-sensitive collection): two systemd, two dockerd and a restart measured in lost packets.
/// </remarks>
[Collection(TimingSensitiveTests.Name)]
[NeedsRoot, NeedsEtcd, NeedsDocker, NeedsBinary]
public sealed partial class SystemdHostsEndToEndTests(ITestOutputHelper output)
{
    private static readonly string[] Units = ["flanneld", "docker", "containerd"];

    /// <summary>Pings at 10/s across the restarts; at most this many may go unanswered (1 s of traffic).</summary>
    private const int MaxLostAcrossRestarts = 10;

    [Theory]
    [InlineData("host-gw", "10.85.0.0/16")]
    [InlineData("vxlan", "10.86.0.0/16")]
    public async Task The_operator_installs_the_package_on_two_systemd_hosts_and_the_containers_talk_across_restarts(string backend, string network)
    {
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        void Step(string what)
        {
            output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s, +{(clock.Elapsed - last).TotalSeconds:F1} s] {what}");
            last = clock.Elapsed;
        }

        string tree = NspawnHost.Tree(Repo.Root);
        Step($"tree {tree}");
        await using var bed = await Testbed.CreateAsync();
        string deb = FlannelPackage.Deb;
        Step($"scripts/package-deb.sh: {Path.GetFileName(deb)}");
        // "Comment" is no key of the network config: flanneld warns about it and runs (the warning journalctl shows).
        bed.Etcdctl(true, "put", "/coreos.com/network/config",
            $$"""{"Network":"{{network}}","Backend":{"Type":"{{backend}}"},"Comment":"written by the systemd end-to-end test"}""");
        string ns1 = bed.AddHost(1), ns2 = bed.AddHost(2);
        foreach (var ns in (string[])[ns1, ns2])
        {
            // As on a freshly booted host: forwarding off until dockerd turns it on, which then also sets the FORWARD
            // policy to DROP; flanneld's FLANNEL-FWD rules are what lets the overlay traffic through.
            Testbed.Exec(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
        }
        await using var host1 = await NspawnHost.BootAsync(tree, ns1, bed.Directory);
        await using var host2 = await NspawnHost.BootAsync(tree, ns2, bed.Directory);
        NspawnHost[] hosts = [host1, host2];
        Step($"booted {host1.Name} in {host1.BootTime.TotalSeconds:F1} s, {host2.Name} in {host2.BootTime.TotalSeconds:F1} s");
        try
        {
            await RunAsync(bed, hosts, deb, Step);
        }
        catch (Exception)
        {
            foreach (var host in hosts)
            {
                output.WriteLine(host.Diagnose(Units));
            }
            output.WriteLine($"[etcd]\n{bed.Etcdctl(false, "get", "--prefix", "/coreos.com/network").Stdout}");
            throw;
        }
    }

    private async Task RunAsync(Testbed bed, NspawnHost[] hosts, string deb, Action<string> step)
    {
        string image = DockerHost.WriteBusyboxImage(bed.Directory);
        var subnet = new Dictionary<string, string>[hosts.Length];
        var address = new string[hosts.Length];
        for (int i = 0; i < hosts.Length; i++)
        {
            var host = hosts[i];
            string container = $"c{i + 1}";

            output.WriteLine($"[{host.Name}] apt install ./flannel-cs_*.deb\n{FlannelPackage.Install(host, deb).Trim()}");
            Assert.Equal("install ok installed", host.Exec(true, "dpkg-query", "-W", "-f=${Status}", "flannel-cs").Stdout.Trim());
            foreach (var installed in (string[])["/usr/bin/flanneld", "/usr/bin/mk-docker-opts.sh", "/lib/systemd/system/flanneld.service",
                         "/lib/systemd/system/docker.service.d/flannel.conf", "/etc/default/flanneld"])
            {
                Assert.True(File.Exists(host.Root + installed), $"{installed} is not installed on {host.Name}");
            }

            // The operator's edit of /etc/default/flanneld: the commented examples set.
            host.Exec(true, "sed", "-i",
                "-e", $"s|^#FLANNELD_ETCD_ENDPOINTS=.*|FLANNELD_ETCD_ENDPOINTS={bed.EtcdEndpoint}|",
                "-e", "s|^#FLANNELD_IFACE=.*|FLANNELD_IFACE=eth0|",
                "-e", "s|^#FLANNELD_IP_MASQ=.*|FLANNELD_IP_MASQ=true|",
                "/etc/default/flanneld");
            string defaults = host.ReadFile("/etc/default/flanneld");
            foreach (var setting in (string[])[$"FLANNELD_ETCD_ENDPOINTS={bed.EtcdEndpoint}", "FLANNELD_IFACE=eth0", "FLANNELD_IP_MASQ=true"])
            {
                Assert.True(defaults.Split('\n').Contains(setting), $"/etc/default/flanneld has no commented example to set {setting}:\n{defaults}");
            }

            // Type=notify: when `systemctl enable --now` returns, flanneld has written subnet.env and ExecStartPost
            // (mk-docker-opts.sh) /run/docker_opts.env. Both are read in the same shell, right after it returns.
            var started = Stopwatch.StartNew();
            var enable = host.Shell(false,
                "systemctl enable --now flanneld 2>&1 && echo '--- subnet.env' && cat /run/flannel/subnet.env && echo '--- docker_opts.env' && cat /run/docker_opts.env");
            Assert.True(enable.ExitCode == 0, $"systemctl enable --now flanneld, then reading both files, on {host.Name}: {enable}");
            step($"{host.Name}: systemctl enable --now flanneld returned in {started.Elapsed.TotalSeconds:F1} s");
            output.WriteLine(enable.Stdout.Trim());
            subnet[i] = ParseEnv(enable.Stdout.Split("--- docker_opts.env")[0]);
            string dockerOpts = enable.Stdout.Split("--- docker_opts.env")[1];
            string leased = subnet[i]["FLANNEL_SUBNET"], mtu = subnet[i]["FLANNEL_MTU"];
            Assert.Contains($"--bip={leased}", dockerOpts, StringComparison.Ordinal);
            Assert.Contains($"--mtu={mtu}", dockerOpts, StringComparison.Ordinal);
            Assert.Equal("enabled", host.Exec(false, "systemctl", "is-enabled", "flanneld").Stdout.Trim());

            // Debian's docker.io, started through its own unit with our drop-in.
            host.Exec(true, "systemctl", "start", "docker");
            string dockerd = host.Shell(true, "tr '\\0' ' ' </proc/$(systemctl show -p MainPID --value docker)/cmdline").Stdout.Trim();
            step($"{host.Name}: systemctl start docker: {dockerd}");
            Assert.Contains($"--bip={leased}", dockerd, StringComparison.Ordinal);
            Assert.Contains($"inet {leased} ", host.Exec(true, "ip", "-o", "-4", "addr", "show", "docker0").Stdout, StringComparison.Ordinal);

            host.CopyIn(image, "/root/busybox.tar");
            host.Exec(true, "docker", "import", "/root/busybox.tar", DockerHost.Image);
            host.Exec(true, "docker", "run", "-d", "--name", container, DockerHost.Image, "sleep", "3600");
            address[i] = host.Exec(true, "docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", container).Stdout.Trim();
            Assert.Equal(Testbed.ContainerAddress(leased), address[i]);
            Assert.Contains($"mtu {mtu} ", host.Exec(true, "docker", "exec", container, "ip", "link", "show", "eth0").Stdout, StringComparison.Ordinal);
            Assert.Contains($"mtu {mtu} ", host.Exec(true, "ip", "-o", "link", "show", "docker0").Stdout, StringComparison.Ordinal);
            step($"{host.Name}: container {container} at {address[i]} (docker0 {leased}, MTU {mtu})");
        }
        Assert.NotEqual(subnet[0]["FLANNEL_SUBNET"], subnet[1]["FLANNEL_SUBNET"]);

        // No `iptables -I DOCKER-USER -j ACCEPT`: dockerd set the FORWARD policy to DROP, and flanneld's FLANNEL-FWD
        // rules accept the Network's traffic, as on a real host.
        Assert.Contains("-P FORWARD DROP", hosts[0].Exec(true, "iptables", "-S", "FORWARD").Stdout, StringComparison.Ordinal);
        Assert.True(Ping(hosts[0], "c1", address[1]), $"c1 on {hosts[0].Name} -> c2 ({address[1]})");
        Assert.True(Ping(hosts[1], "c2", address[0]), $"c2 on {hosts[1].Name} -> c1 ({address[0]})");
        step("the containers ping each other");

        // The journal: the unknown key's warning at warning priority, the info lines only without the filter.
        string warnings = hosts[0].Exec(true, "journalctl", "--no-pager", "-u", "flanneld", "-p", "warning").Stdout;
        string all = hosts[0].Exec(true, "journalctl", "--no-pager", "-u", "flanneld").Stdout;
        output.WriteLine($"[{hosts[0].Name}] journalctl -u flanneld -p warning\n{warnings.Trim()}");
        Assert.Contains("unknown key \"Comment\"", warnings, StringComparison.Ordinal);
        Assert.Contains("Ready: subnet", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Ready: subnet", warnings, StringComparison.Ordinal);
        Assert.DoesNotContain("starting (etcd", warnings, StringComparison.Ordinal);

        // systemctl restart flanneld on both hosts while c1 pings c2 at 10/s: the kernel routes and rules stay while
        // flanneld restarts, the lease is found again, dockerd (Wants=, not Requires=) and the containers are untouched.
        string dockerPid1 = MainPid(hosts[0], "docker");
        var ping = hosts[0].Start("docker", "exec", "c1", "ping", "-i", "0.1", "-c", "120", "-W", "2", address[1]);
        var pingOut = ping.StandardOutput.ReadToEndAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        foreach (var host in hosts)
        {
            var t = Stopwatch.StartNew();
            host.Exec(true, "systemctl", "restart", "flanneld");
            step($"{host.Name}: systemctl restart flanneld returned in {t.Elapsed.TotalSeconds:F1} s");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        await ping.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var summary = PingSummary().Match(await pingOut);
        Assert.True(summary.Success, $"no ping summary in:\n{await pingOut}");
        int sent = int.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture), received = int.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture);
        step($"across both restarts c1 -> c2: {sent} sent, {received} received");
        Assert.True(sent - received <= MaxLostAcrossRestarts, $"{sent - received} of {sent} pings lost across the restarts (at most {MaxLostAcrossRestarts})");
        for (int i = 0; i < hosts.Length; i++)
        {
            var again = ParseEnv(hosts[i].Exec(true, "cat", "/run/flannel/subnet.env").Stdout);
            Assert.Equal(subnet[i]["FLANNEL_SUBNET"], again["FLANNEL_SUBNET"]);
            Assert.Equal("true", hosts[i].Exec(true, "docker", "inspect", "-f", "{{.State.Running}}", $"c{i + 1}").Stdout.Trim());
        }
        Assert.Equal(dockerPid1, MainPid(hosts[0], "docker"));

        // systemctl stop: flanneld ends on SIGTERM with exit status 0, the unit inactive and not failed.
        foreach (var host in hosts)
        {
            host.Exec(true, "systemctl", "stop", "flanneld");
            string show = host.Exec(true, "systemctl", "show", "-p", "ActiveState", "-p", "Result", "-p", "ExecMainCode", "-p", "ExecMainStatus", "flanneld").Stdout;
            var props = ParseEnv(show);
            step($"{host.Name}: systemctl stop flanneld: {show.ReplaceLineEndings(" ").Trim()}");
            Assert.Equal("inactive", props["ActiveState"]);
            Assert.Equal("success", props["Result"]);
            Assert.Equal("1", props["ExecMainCode"]); // CLD_EXITED: it exited, no signal killed it
            Assert.Equal("0", props["ExecMainStatus"]);
        }
        output.WriteLine($"[{hosts[0].Name}] systemctl status flanneld\n{hosts[0].Exec(false, "systemctl", "status", "--no-pager", "-l", "flanneld").Stdout.Trim()}");
    }

    /// <summary>
    /// True when, once a first echo has come back (within 15 s: fresh bridges and neighbour entries settle), all of 3
    /// pings from the container get answers.
    /// </summary>
    private static bool Ping(NspawnHost host, string container, string address)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (host.Exec(false, "docker", "exec", container, "ping", "-c", "1", "-W", "1", address).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
        }
        var r = host.Exec(false, "docker", "exec", container, "ping", "-c", "3", "-W", "2", address);
        return r.ExitCode == 0 && r.Stdout.Contains("3 packets received", StringComparison.Ordinal);
    }

    private static string MainPid(NspawnHost host, string unit) => host.Exec(true, "systemctl", "show", "-p", "MainPID", "--value", unit).Stdout.Trim();

    /// <summary>KEY=value lines (subnet.env, systemctl show).</summary>
    private static Dictionary<string, string> ParseEnv(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1].Trim('"'));

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) packets received")]
    private static partial Regex PingSummary();
}
