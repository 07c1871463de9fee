using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Everyday host events with containers pinging across two hosts ten times a second: our device deleted, the external
/// interface down and up, its address lost and regained, the interface deleted and created again (a new ifindex), its
/// address renumbered for good. Each must repair itself within a second of the event, use no CPU while it cannot, and
/// leave exactly the state a fresh start makes. Real etcd, published flanneld, namespaces; root.
/// </summary>
[Collection(TimingSensitiveTests.Name)]
[NeedsRoot, NeedsEtcd]
public sealed partial class SelfHealingEndToEndTests(ITestOutputHelper output)
{
    private const int HealthPort = 19617;

    private static readonly string[] Backends = ["vxlan", "host-gw", "udp"];

    public static TheoryData<string> AllBackends => [.. Backends];

    private static async Task<TwoHosts> StartAsync(Testbed bed, string backend, int net)
    {
        string network = $"10.{net}.0.0/16";
        var p = await TwoHosts.StartAsync(bed, $"/heal-{backend}-{net}/network", backend, network,
            ["--healthz-ip", "127.0.0.1", "--healthz-port", HealthPort.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(Testbed.Ping(p.C1, p.A2), $"c1 -> c2 before the fault\n{bed.LogOf(p.D1.Process)}");
        Assert.True(Testbed.Ping(p.C2, p.A1), "c2 -> c1 before the fault");
        return p;
    }

    [Fact]
    public async Task Udp_flannel0_deleted_comes_back_with_its_address_and_route_and_the_pump_never_spins()
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, "udp", 120);
        string before = KernelState(p, "udp");
        var monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(5));
        await Task.Delay(1000);

        Testbed.Ip(p.H1, "link", "del", "flannel0");
        var (sent, received) = await monitor.ResultAsync();
        int lost = sent - received;
        output.WriteLine($"| flannel0 deleted | udp | ~{lost * 100} ms | {lost} of {sent} | - |");
        Assert.True(lost <= 10, $"{lost} echoes lost: repair took about {lost * 100} ms, expected under 1 s\n{bed.LogOf(p.D1.Process)}");
        Assert.Equal(before, KernelState(p, "udp"));
        Assert.Matches(RecoveredUdp(), bed.LogOf(p.D1.Process));

        // While the name is held by someone else the device cannot come back: the daemon must sit still, then recover
        // within a second of the name being free again.
        HoldDeviceName(p.H1, "flannel0");
        await Task.Delay(300);
        double cpu = await CpuShareAsync(p.D1.Process.Id, TimeSpan.FromSeconds(3));
        output.WriteLine($"| flannel0 deleted, its name held by another link for 3 s | udp | (no device meanwhile) | - | {cpu:P2} |");
        Assert.True(cpu < 0.01, $"daemon used {cpu:P2} of a core while its device could not be created");
        monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(3));
        await Task.Delay(500);
        Testbed.Ip(p.H1, "link", "del", "flannel0");
        (sent, received) = await monitor.ResultAsync();
        output.WriteLine($"| the name freed again | udp | ~{Math.Max(0, (sent - received) * 100 - 500)} ms after | {sent - received} of {sent} | - |");
        Assert.True(sent - received <= 5 + 10, $"{sent - received} echoes lost after the name was freed (expected recovery within 1 s)");
        Assert.Equal(before, KernelState(p, "udp"));
        string metrics = HealthHttp.Metrics(p.H1, HealthPort);
        Assert.True(HealthHttp.Value(metrics, "flannel_device_recreations_total", "backend=\"udp\",device=\"flannel0\"") >= 2, metrics);
        output.WriteLine(bed.LogOf(p.D1.Process));
        Assert.Equal(0, await p.D1.StopAsync());
    }

    [Fact]
    public async Task Vxlan_device_deleted_comes_back_with_the_same_VtepMAC_and_every_peer_entry()
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, "vxlan", 121);
        string before = KernelState(p, "vxlan");
        string lease = LeaseValue(bed, p);
        var monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(5));
        await Task.Delay(1000);

        Testbed.Ip(p.H1, "link", "del", "flannel.1");
        var (sent, received) = await monitor.ResultAsync();
        int lost = sent - received;
        output.WriteLine($"| flannel.1 deleted | vxlan | ~{lost * 100} ms | {lost} of {sent} | - |");
        Assert.True(lost <= 10, $"{lost} echoes lost\n{bed.LogOf(p.D1.Process)}");
        Assert.Equal(before, KernelState(p, "vxlan"));
        Assert.Equal(lease, LeaseValue(bed, p)); // same VtepMAC: the lease and the peers' FDB entries stay valid
        Assert.Matches(RecoveredVxlan(), bed.LogOf(p.D1.Process));
        string metrics = HealthHttp.Metrics(p.H1, HealthPort);
        Assert.Equal(1, HealthHttp.Value(metrics, "flannel_device_recreations_total", "backend=\"vxlan\",device=\"flannel.1\""));
        Assert.Equal(0, await p.D1.StopAsync());
    }

    [Theory]
    [MemberData(nameof(AllBackends))]
    public async Task Flushed_routes_neighbours_and_fdb_entries_are_put_back_at_once(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, backend, 134 + Array.IndexOf(Backends, backend));
        string before = KernelState(p, backend);
        // The daemon repairs at once by itself: the second is only the window its CPU is measured over.
        await FaultAsync(bed, p, backend, "our routes flushed (+ vxlan: neighbours, FDB)", TimeSpan.FromSeconds(1), () =>
        {
            // What a cleanup script does: every route through our device, or via the peer.
            string[] which = backend switch
            {
                "vxlan" => ["dev", "flannel.1"],
                "udp" => ["dev", "flannel0"],
                _ => ["via", "198.51.100.2"],
            };
            Testbed.Ip(p.H1, ["route", "flush", .. which]);
            if (backend == "vxlan")
            {
                Testbed.Ip(p.H1, "neigh", "flush", "dev", "flannel.1");
                Testbed.Exec(p.H1, ["bridge", "fdb", "flush", "dev", "flannel.1"]);
            }
        }, () => { });
        await Wait.UntilAsync(() => KernelState(p, backend) == before, TimeSpan.FromSeconds(2), "the state of a fresh start back");
    }

    [Theory]
    [MemberData(nameof(AllBackends))]
    public async Task The_external_interface_down_and_up_is_repaired_within_a_second(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, backend, 122 + Array.IndexOf(Backends, backend));
        string before = KernelState(p, backend);
        await FaultAsync(bed, p, backend, "down 1 s", TimeSpan.FromSeconds(1), () =>
        {
            Testbed.Ip(p.H1, "link", "set", "eth0", "down");
        }, () =>
        {
            Testbed.Ip(p.H1, "link", "set", "eth0", "up");
        });
        Assert.Equal(before, KernelState(p, backend));
    }

    [Theory]
    [MemberData(nameof(AllBackends))]
    public async Task The_external_interface_losing_and_regaining_its_address_is_repaired_within_a_second(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, backend, 125 + Array.IndexOf(Backends, backend));
        string before = KernelState(p, backend);
        await FaultAsync(bed, p, backend, "address removed 1 s", TimeSpan.FromSeconds(1), () =>
        {
            Testbed.Ip(p.H1, "addr", "del", "198.51.100.1/24", "dev", "eth0");
        }, () =>
        {
            Testbed.Ip(p.H1, "addr", "add", "198.51.100.1/24", "dev", "eth0");
        });
        Assert.Equal(before, KernelState(p, backend));
    }

    [Theory]
    [MemberData(nameof(AllBackends))]
    public async Task The_external_interface_deleted_and_created_again_with_a_new_index_is_used_again(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, backend, 128 + Array.IndexOf(Backends, backend));
        string before = KernelState(p, backend);
        int indexBefore = LinkIndex(p.H1, "eth0");
        double cpu = 0;
        await FaultAsync(bed, p, backend, "deleted 5 s", TimeSpan.FromSeconds(5), () =>
        {
            Testbed.Ip(p.H1, "link", "del", "eth0"); // the veth pair goes, and (vxlan) the kernel deletes flannel.1 with it
        }, () => RecreateHostLink(bed, p.H1, 1), during: async () =>
        {
            await Task.Delay(500);
            // What this guards is "never spins" (a busy loop shows as tens of percent). 4 s, not 2: CPU time comes in
            // 10 ms clock ticks, and etcd is unreachable through the same interface, so the etcd client's reconnects
            // cost a few ticks now and then (0-0.5 % in most runs, 1-3.5 % in some, seen on a busy machine).
            cpu = await CpuShareAsync(p.D1.Process.Id, TimeSpan.FromSeconds(4));
        });

        output.WriteLine($"| (eth0 gone: the daemon over 4 s of it) | {backend} | - | - | {cpu:P2} |");
        Assert.True(cpu < 0.05, $"daemon used {cpu:P2} of a core while the interface was gone\n{bed.LogOf(p.D1.Process)}");
        Assert.NotEqual(indexBefore, LinkIndex(p.H1, "eth0"));
        Assert.Equal(before, KernelState(p, backend).Replace($"dev #{LinkIndex(p.H1, "eth0")}", $"dev #{indexBefore}", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(AllBackends))]
    public async Task A_renumbered_interface_rewrites_the_lease_with_the_new_PublicIP_and_the_peers_follow(string backend)
    {
        await using var bed = await Testbed.CreateAsync();
        var p = await StartAsync(bed, backend, 131 + Array.IndexOf(Backends, backend));
        string leaseBefore = LeaseValue(bed, p);
        Assert.Contains("198.51.100.1\"", leaseBefore, StringComparison.Ordinal);
        var monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(5));
        await Task.Delay(1000);
        Testbed.Ip(p.H1, "addr", "del", "198.51.100.1/24", "dev", "eth0");
        Testbed.Ip(p.H1, "addr", "add", "198.51.100.101/24", "dev", "eth0");
        try
        {
            await Wait.UntilAsync(() => LeaseValue(bed, p).Contains("198.51.100.101\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
                "the lease published with the new PublicIP");
        }
        finally
        {
            output.WriteLine(bed.LogOf(p.D1.Process));
        }
        var (sent, received) = await monitor.ResultAsync();
        output.WriteLine($"| address renumbered .1 -> .101 (lease rewritten) | {backend} | ~{(sent - received) * 100} ms | {sent - received} of {sent} | - |");
        // The local rebuild takes milliseconds; the peer's half waits for etcd: the put goes out after gRPC's retry backoff
        // (up to 1 s) on the connection that replaced the dropped one, then the peer's watch. Seen here: 100 ms to 1.7 s.
        Assert.True(sent - received <= 30, $"{sent - received} echoes lost\n{bed.LogOf(p.D1.Process)}\n{bed.LogOf(p.D2.Process)}");
        Assert.True(Testbed.Ping(p.C2, p.A1), "c2 -> c1 after the renumbering");
        // Same subnet, same backend data (VtepMAC): only the PublicIP moved.
        Assert.Equal(leaseBefore.Replace("198.51.100.1\"", "198.51.100.101\"", StringComparison.Ordinal), LeaseValue(bed, p));
        string h2 = Testbed.Ip(p.H2, "route", "show", TestDaemon.NetworkOf(p.Env1["FLANNEL_SUBNET"]));
        if (backend == "host-gw")
        {
            Assert.Contains("via 198.51.100.101", h2, StringComparison.Ordinal);
        }
        if (backend == "vxlan")
        {
            Assert.Contains("dst 198.51.100.101", Testbed.Exec(p.H2, ["bridge", "fdb", "show", "dev", "flannel.1"]).Stdout, StringComparison.Ordinal);
            Assert.Contains("local 198.51.100.101", Testbed.Ip(p.H1, "-d", "link", "show", "flannel.1"), StringComparison.Ordinal);
        }
        output.WriteLine(bed.LogOf(p.D1.Process));
    }

    /// <summary>
    /// Pings c1 -> c2 while <paramref name="fault"/> is in place for <paramref name="outage"/>, then repaired; asserts
    /// that traffic came back within a second of the repair (echoes lost beyond the outage) and prints the row.
    /// </summary>
    private async Task FaultAsync(Testbed bed, TwoHosts p, string backend, string what, TimeSpan outage, Action fault, Action repair,
        Func<Task>? during = null)
    {
        var monitor = PingMonitor.Start(bed, p.C1, p.A2, TimeSpan.FromSeconds(1) + outage + TimeSpan.FromSeconds(3));
        await Task.Delay(1000);
        var started = DateTime.UtcNow;
        long ticks = CpuTicks(p.D1.Process.Id);
        fault();
        if (during is not null)
        {
            await during();
        }
        var left = outage - (DateTime.UtcNow - started);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }
        outage = DateTime.UtcNow - started;
        double cpu = (CpuTicks(p.D1.Process.Id) - ticks) / 100.0 / outage.TotalSeconds;
        repair();
        var (sent, received) = await monitor.ResultAsync();
        int lost = sent - received;
        double beyond = lost * 100 - outage.TotalMilliseconds;
        output.WriteLine($"| {what} | {backend} | ~{Math.Max(0, beyond):F0} ms after the repair | {lost} of {sent} | {cpu:P2} |");
        string log = bed.LogOf(p.D1.Process);
        Assert.True(cpu < 0.05, $"daemon used {cpu:P2} of a core during the outage\n{log}");
        Assert.True(beyond <= 1000 + 2 * 100, $"{lost} echoes lost: traffic came back ~{beyond:F0} ms after the repair, expected within 1 s\n{log}");
        Assert.True(Testbed.Ping(p.C2, p.A1), $"c2 -> c1 after the repair\n{log}");
        Assert.DoesNotContain("failed; stopping the daemon", log, StringComparison.Ordinal);
    }

    /// <summary>What a fresh start makes on host 1, minus what legitimately differs (link indexes of other links).</summary>
    private static string KernelState(TwoHosts p, string backend)
    {
        string net2 = TestDaemon.NetworkOf(p.Env2["FLANNEL_SUBNET"]);
        var lines = new List<string>
        {
            "devices: " + string.Join(' ', Regex.Matches(Testbed.Ip(p.H1, "-o", "link", "show"), @"\d+: (flannel[^:@]*)").Select(m => m.Groups[1].Value)),
            "routes to the peer: " + Normalize(Testbed.Ip(p.H1, "route", "show", net2)),
            "forward jumps: " + Regex.Count(Testbed.Exec(p.H1, ["iptables", "-S", "FORWARD"]).Stdout, "FLANNEL-FWD"),
        };
        switch (backend)
        {
            case "vxlan":
                string link = Testbed.Ip(p.H1, "-d", "link", "show", "flannel.1");
                lines.Add("vtep: " + Regex.Match(link, "link/ether ([0-9a-f:]+)").Groups[1].Value + " " + Regex.Match(link, @"vxlan id \d+ local [0-9.]+").Value);
                lines.Add("address: " + Normalize(Testbed.Ip(p.H1, "-4", "-o", "addr", "show", "dev", "flannel.1")));
                lines.Add("neighbours: " + Normalize(Testbed.Ip(p.H1, "neigh", "show", "dev", "flannel.1")));
                lines.Add("fdb: " + Normalize(Testbed.Exec(p.H1, ["bridge", "fdb", "show", "dev", "flannel.1"]).Stdout));
                break;
            case "udp":
                lines.Add("address: " + Normalize(Testbed.Ip(p.H1, "-4", "-o", "addr", "show", "dev", "flannel0")));
                lines.Add("network route: " + Normalize(Testbed.Ip(p.H1, "route", "show", "dev", "flannel0")));
                lines.Add("mtu: " + Regex.Match(Testbed.Ip(p.H1, "link", "show", "flannel0"), @"mtu \d+").Value);
                break;
            case "host-gw":
                lines.Add("gateway route: " + Normalize(Testbed.Ip(p.H1, "route", "show", net2)).Replace("dev eth0", "", StringComparison.Ordinal));
                break;
        }
        return string.Join('\n', lines);
    }

    private static string Normalize(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => Regex.Replace(l, @"^\d+: ", "").Replace("valid_lft forever preferred_lft forever", "", StringComparison.Ordinal).Trim())
            .Order(StringComparer.Ordinal));

    private static int LinkIndex(string ns, string name) =>
        int.Parse(Regex.Match(Testbed.Ip(ns, "-o", "link", "show", name), @"^(\d+):").Groups[1].Value, CultureInfo.InvariantCulture);

    private static string LeaseValue(Testbed bed, TwoHosts p)
    {
        string key = $"{p.Prefix}/subnets/{TestDaemon.NetworkOf(p.Env1["FLANNEL_SUBNET"]).Replace('/', '-')}";
        return bed.Etcdctl(true, "get", "--print-value-only", key).Stdout.Trim();
    }

    /// <summary>
    /// Takes our device's name with a bridge link, then deletes our device (renamed aside first, so the daemon, which
    /// makes a deleted device again within microseconds, finds the name taken): the daemon then cannot have its device
    /// until the bridge goes.
    /// </summary>
    private static void HoldDeviceName(string ns, string name)
    {
        string batch = Path.GetTempFileName();
        try
        {
            // One ip process sends the requests back to back; a retry if the daemon set its device up in between.
            File.WriteAllText(batch, $"link set {name} down\nlink set {name} name fcsheld0\nlink add {name} type bridge\nlink del fcsheld0\n");
            for (int attempt = 0; attempt < 10; attempt++)
            {
                Command.TryRun("ip", "-n", ns, "-force", "-batch", batch);
                if (Testbed.Ip(ns, "-d", "link", "show", name).Contains("bridge", StringComparison.Ordinal))
                {
                    return;
                }
            }
            throw new InvalidOperationException($"could not take the name {name} from the daemon");
        }
        finally
        {
            File.Delete(batch);
        }
    }

    /// <summary>Host n's eth0 again, as Testbed.AddHost made it: a new veth pair (so a new ifindex) on the switch.</summary>
    private static void RecreateHostLink(Testbed bed, string ns, int n)
    {
        string outside = $"{bed.Prefix}v{n}";
        Command.Run("ip", "link", "add", outside, "netns", bed.SwitchNs, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Testbed.Ip(bed.SwitchNs, "link", "set", outside, "master", "br0");
        Testbed.Ip(bed.SwitchNs, "link", "set", outside, "up");
        Testbed.Ip(ns, "addr", "add", $"198.51.100.{n}/24", "dev", "eth0");
        Testbed.Ip(ns, "link", "set", "eth0", "up");
    }

    /// <summary>The share of one core the process used over <paramref name="window"/> (utime + stime, USER_HZ 100).</summary>
    private static async Task<double> CpuShareAsync(int pid, TimeSpan window)
    {
        long before = CpuTicks(pid);
        await Task.Delay(window);
        long after = CpuTicks(pid);
        return (after - before) / 100.0 / window.TotalSeconds;
    }

    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime 14 and stime 15 of stat(5).
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"udp: flannel0 was gone .*built again: flannel0 with MTU \d+, its address and route; traffic through the pump was down \d+ ms")]
    private static partial Regex RecoveredUdp();

    [GeneratedRegex(@"vxlan: flannel\.1 was gone; created flannel\.1 again with VtepMAC [0-9a-f:]+, its address and 1 peers \(\d+ entries in one batch\); traffic through it was down \d+ ms")]
    private static partial Regex RecoveredVxlan();
}
