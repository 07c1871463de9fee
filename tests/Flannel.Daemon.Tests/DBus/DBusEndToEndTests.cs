using Flannel.Daemon.Tests.EndToEnd;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>
/// The published flanneld in a simulated host, with DBUS_SYSTEM_BUS_ADDRESS pointing at a private bus that carries
/// stand-ins for firewalld, NetworkManager and systemd. A previous subnet.env naming a subnet another host now holds
/// makes the daemon start on a different subnet, as after a lease lost while it was down.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class DBusEndToEndTests
{
    private const string PreviousSubnet = "10.71.250.1/24";

    private static string SetUp(Testbed bed, string prefix, string backend)
    {
        bed.Etcdctl(true, "put", prefix + "/config", $$"""{"Network":"10.71.0.0/16","Backend":{{backend}}}""");
        // Our previous subnet is now another host's.
        bed.Etcdctl(true, "put", $"{prefix}/subnets/10.71.250.0-24", """{"PublicIP":"198.51.100.9","PublicIPv6":null}""");
        string h1 = bed.AddHost(1);
        File.WriteAllText(Path.Combine(bed.Directory, h1 + ".env"),
            $"FLANNEL_NETWORK=10.71.0.0/16\nFLANNEL_SUBNET={PreviousSubnet}\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        return h1;
    }

    // The previous file is there from the start, so wait for the daemon to replace it.
    private static async Task<Dictionary<string, string>> WaitForNewSubnetEnvAsync(Testbed bed, TestDaemon d)
    {
        await Wait.UntilAsync(() => !File.ReadAllText(d.SubnetFile).Contains(PreviousSubnet, StringComparison.Ordinal) || d.Process.HasExited,
            TimeSpan.FromSeconds(30), "the new subnet.env");
        return await d.WaitForSubnetEnvAsync(bed);
    }

    [Fact]
    public async Task Udp_daemon_opens_its_port_unmanages_flannel0_and_restarts_docker_after_writing_the_new_subnet()
    {
        await using var bus = await HostBusFixture.StartAsync();
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dbus-udp/network";
        string h1 = SetUp(bed, prefix, """{"Type":"udp"}""");
        bus.Firewalld.InterfaceZones["eth0"] = "internal";
        bus.NetworkManager.Devices["flannel0"] = "/org/freedesktop/NetworkManager/Devices/5";
        string subnetFile = Path.Combine(bed.Directory, h1 + ".env");
        bus.Systemd.Observe = () => File.ReadAllText(subnetFile);

        var d = TestDaemon.Start(bed, h1, prefix, ["--restart-docker-on-subnet-change"],
            new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.Bus.Address });
        var env = await WaitForNewSubnetEnvAsync(bed, d);
        await Wait.UntilAsync(() => bus.Firewalld.OpenPorts.Count > 0 && bus.NetworkManager.Calls.Count >= 2 && !bus.Systemd.Calls.IsEmpty,
            TimeSpan.FromSeconds(15), $"the D-Bus calls:\n{string.Join('\n', bus.AllCalls)}\n{bed.LogOf(d.Process)}");

        // The stand-ins record a call before the daemon has its reply and logs the outcome.
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("restart of docker.service", StringComparison.Ordinal) || d.Process.HasExited,
            TimeSpan.FromSeconds(10), "the outcome logged");
        string log = bed.LogOf(d.Process);
        Assert.Equal(["internal 8285/udp"], bus.Firewalld.OpenPorts);
        Assert.Equal(["getZoneOfInterface eth0", "queryPort internal 8285 udp", "addPort internal 8285 udp 0"], bus.Firewalld.Calls);
        Assert.Equal(["GetDeviceByIpIface flannel0", "Set /org/freedesktop/NetworkManager/Devices/5 org.freedesktop.NetworkManager.Device Managed false"],
            bus.NetworkManager.Calls);
        Assert.Equal(["TryRestartUnit docker.service replace"], bus.Systemd.Calls);
        // dockerd must come back on the new --bip: subnet.env already named the new subnet when the restart was asked.
        string atRestart = Assert.Single(bus.Systemd.Observed);
        Assert.Contains("FLANNEL_SUBNET=" + env["FLANNEL_SUBNET"], atRestart, StringComparison.Ordinal);
        Assert.NotEqual(PreviousSubnet, env["FLANNEL_SUBNET"]);
        Assert.True(log.Contains("opened 8285/udp in zone internal of eth0 (runtime configuration only)", StringComparison.Ordinal), log);
        Assert.True(log.Contains("flannel0 (/org/freedesktop/NetworkManager/Devices/5) is now unmanaged", StringComparison.Ordinal), log);
        Assert.DoesNotContain("WRN", log, StringComparison.Ordinal);

        Assert.Equal(0, await d.StopAsync());
    }

    [Fact]
    public async Task Vxlan_daemon_with_the_parts_turned_off_by_environment_calls_nothing_and_warns_of_the_stale_bip()
    {
        await using var bus = await HostBusFixture.StartAsync();
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dbus-off/network";
        string h1 = SetUp(bed, prefix, """{"Type":"vxlan"}""");
        bus.Firewalld.InterfaceZones["eth0"] = "public";
        bus.NetworkManager.Devices["flannel.1"] = "/org/freedesktop/NetworkManager/Devices/6";

        var d = TestDaemon.Start(bed, h1, prefix, env: new Dictionary<string, string>
        {
            ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.Bus.Address,
            ["FLANNELD_FIREWALLD"] = "false",
            ["FLANNELD_NETWORKMANAGER_UNMANAGED"] = "false",
        });
        var env = await WaitForNewSubnetEnvAsync(bed, d);
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("stale --bip", StringComparison.Ordinal) || d.Process.HasExited,
            TimeSpan.FromSeconds(30), "the stale --bip warning");
        await Task.Delay(1000); // time for any stray call to arrive

        string log = bed.LogOf(d.Process);
        Assert.Empty(bus.AllCalls);
        Assert.NotEqual(PreviousSubnet, env["FLANNEL_SUBNET"]);
        Assert.Single(log.Split('\n'), l => l.Contains("stale --bip", StringComparison.Ordinal) && l.Contains("--restart-docker-on-subnet-change", StringComparison.Ordinal));
        Assert.DoesNotContain("D-Bus", log, StringComparison.Ordinal); // no connection attempted at all
        Assert.Equal(0, await d.StopAsync());
    }

    [Fact]
    public async Task Without_a_system_bus_the_daemon_starts_as_usual_with_one_information_line()
    {
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dbus-none/network";
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.72.0.0/16","Backend":{"Type":"vxlan"}}""");
        string h1 = bed.AddHost(1);
        string missing = Path.Combine(bed.Directory, "no-bus", "system_bus_socket");

        var d = TestDaemon.Start(bed, h1, prefix, ["--restart-docker-on-subnet-change"],
            new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + missing });
        await d.WaitForSubnetEnvAsync(bed);
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("Ready:", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "Ready");
        await Task.Delay(500);

        string log = bed.LogOf(d.Process);
        var busLines = log.Split('\n').Where(l => l.Contains("D-Bus", StringComparison.Ordinal)).ToList();
        string line = Assert.Single(busLines);
        Assert.Contains("INF No D-Bus system bus at unix:path=" + missing, line, StringComparison.Ordinal);
        Assert.DoesNotContain("WRN", log, StringComparison.Ordinal);
        Assert.Equal(0, await d.StopAsync());
    }

    [Fact]
    public async Task A_bus_that_never_answers_does_not_hold_up_readiness()
    {
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dbus-hung/network";
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.73.0.0/16","Backend":{"Type":"udp"}}""");
        string h1 = bed.AddHost(1);
        string socketPath = Path.Combine(bed.Directory, "hung-bus.sock");
        // Connections queue in the backlog and are never accepted: the D-Bus handshake gets no answer.
        using var hung = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        hung.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        hung.Listen(16);

        var d = TestDaemon.Start(bed, h1, prefix, env: new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + socketPath });
        await d.WaitForSubnetEnvAsync(bed);
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("No D-Bus system bus", StringComparison.Ordinal) || d.Process.HasExited,
            TimeSpan.FromSeconds(15), "the connect timeout");

        var lines = bed.LogOf(d.Process).Split('\n');
        int ready = Array.FindIndex(lines, l => l.Contains("Ready:", StringComparison.Ordinal));
        int noBus = Array.FindIndex(lines, l => l.Contains("No D-Bus system bus", StringComparison.Ordinal));
        Assert.True(ready >= 0 && ready < noBus, string.Join('\n', lines));
        Assert.Contains("no answer in time", lines[noBus], StringComparison.Ordinal);
        Assert.Equal(0, await d.StopAsync());
    }

    [Fact]
    public async Task A_lease_reacquired_at_runtime_on_another_subnet_restarts_docker_once_and_an_unchanged_start_does_not()
    {
        await using var bus = await HostBusFixture.StartAsync();
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/e2e-dbus-reacquire/network";
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.74.0.0/16","Backend":{"Type":"host-gw"}}""");
        string h1 = bed.AddHost(1);
        var d = TestDaemon.Start(bed, h1, prefix, ["--restart-docker-on-subnet-change"],
            new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.Bus.Address });
        bus.Systemd.Observe = () => File.ReadAllText(d.SubnetFile);
        var first = await d.WaitForSubnetEnvAsync(bed);
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("Ready:", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "Ready");
        await Task.Delay(500);
        Assert.Empty(bus.Systemd.Calls); // first start: no previous subnet, nothing stale

        // While the daemon is frozen, its lease key is deleted and taken by another host: on waking it sees its lease
        // gone, cannot have that subnet back and re-acquires another one.
        string key = $"{prefix}/subnets/{TestDaemon.NetworkOf(first["FLANNEL_SUBNET"]).Replace('/', '-')}";
        string pid = d.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Command.Run("kill", "-STOP", pid);
        try
        {
            bed.Etcdctl(true, "del", key);
            bed.Etcdctl(true, "put", key, """{"PublicIP":"198.51.100.9","PublicIPv6":null}""");
        }
        finally
        {
            Command.Run("kill", "-CONT", pid);
        }
        await Wait.UntilAsync(() => !bus.Systemd.Calls.IsEmpty || d.Process.HasExited, TimeSpan.FromSeconds(20),
            $"docker restarted after the re-acquisition:\n{bed.LogOf(d.Process)}");
        await Task.Delay(500);

        Assert.Equal(["TryRestartUnit docker.service replace"], bus.Systemd.Calls);
        string atRestart = Assert.Single(bus.Systemd.Observed);
        Assert.DoesNotContain("FLANNEL_SUBNET=" + first["FLANNEL_SUBNET"], atRestart, StringComparison.Ordinal);
        Assert.Contains("FLANNEL_SUBNET=10.74.", atRestart, StringComparison.Ordinal);
        Assert.Equal(0, await d.StopAsync());
    }
}
