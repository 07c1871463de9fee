using Flannel.Daemon.DBus;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>
/// The D-Bus calls the daemon makes, against stand-ins for firewalld, NetworkManager and systemd on a private
/// dbus-daemon (the real services are not installed: firewalld would take over this machine's firewall).
/// </summary>
[Unit]
public sealed class DBusIntegratorTests
{
    private const string NmDevicePath = "/org/freedesktop/NetworkManager/Devices/12";

    private static NetworkConfig Config(string backend) =>
        NetworkConfigParser.Parse($$"""{"Network":"10.70.0.0/16","Backend":{{backend}}}""");

    private static async Task RunDeviceReadyAsync(HostBusFixture f, string backend, DBusOptions? options = null)
    {
        await using var integrator = await ReadyIntegratorAsync(f, backend, options);
    }

    // Started, told the device is ready and idle again; kept alive for tests that change the bus afterwards.
    private static async Task<DBusIntegrator> ReadyIntegratorAsync(HostBusFixture f, string backend, DBusOptions? options = null)
    {
        var integrator = f.Integrator(options);
        integrator.Start();
        integrator.DeviceReady("eth0", BackendDBusNeeds.For(Config(backend)));
        await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        return integrator;
    }

    [Fact]
    public async Task Udp_backend_opens_8285_udp_in_the_zone_of_the_external_interface_at_runtime_only()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "internal";
        f.Firewalld.DefaultZone = "public";

        await RunDeviceReadyAsync(f, """{"Type":"udp"}""");

        Assert.Equal(["getZoneOfInterface eth0", "queryPort internal 8285 udp", "addPort internal 8285 udp 0"], f.Firewalld.Calls);
        Assert.Equal(["internal 8285/udp"], f.Firewalld.OpenPorts);
        Assert.Contains(f.Log.Entries, e => e.Id.Id == 3203 && e.Message.Contains("8285/udp in zone internal of eth0", StringComparison.Ordinal));
        Assert.Equal(0, f.Log.Count(3205));
    }

    [Theory]
    [InlineData("""{"Type":"vxlan"}""", 8472)]
    [InlineData("""{"Type":"vxlan","Port":4789,"VNI":3}""", 4789)]
    [InlineData("""{"Type":"udp","Port":9100}""", 9100)]
    public async Task The_backends_configured_port_is_opened(string backend, int port)
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";

        await RunDeviceReadyAsync(f, backend);

        Assert.Equal([$"public {port}/udp"], f.Firewalld.OpenPorts);
        Assert.Contains($"addPort public {port} udp 0", f.Firewalld.Calls);
    }

    [Fact]
    public async Task An_already_open_port_is_not_added_again()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";
        f.Firewalld.OpenPorts.Add("public 8472/udp");

        await RunDeviceReadyAsync(f, """{"Type":"vxlan"}""");

        Assert.DoesNotContain(f.Firewalld.Calls, c => c.StartsWith("addPort", StringComparison.Ordinal));
        Assert.Equal(1, f.Log.Count(3204));
        Assert.Equal(0, f.Log.Count(3205)); // no ALREADY_ENABLED error from a blind addPort
    }

    [Fact]
    public async Task The_default_zone_is_used_when_the_interface_is_in_no_zone()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.DefaultZone = "dmz";

        await RunDeviceReadyAsync(f, """{"Type":"udp"}""");

        Assert.Equal(["getZoneOfInterface eth0", "getDefaultZone", "queryPort dmz 8285 udp", "addPort dmz 8285 udp 0"], f.Firewalld.Calls);
        Assert.Equal(["dmz 8285/udp"], f.Firewalld.OpenPorts);
    }

    [Fact]
    public async Task Host_gw_opens_nothing_and_unmanages_nothing()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";
        f.NetworkManager.Devices["eth0"] = NmDevicePath;

        Assert.Equal(BackendDBusNeeds.None, BackendDBusNeeds.For(Config("""{"Type":"host-gw"}""")));
        await RunDeviceReadyAsync(f, """{"Type":"host-gw"}""");

        Assert.Empty(f.AllCalls);
    }

    [Theory]
    [InlineData("""{"Type":"vxlan","VNI":7}""", "flannel.7")]
    [InlineData("""{"Type":"udp"}""", "flannel0")]
    public async Task NetworkManager_is_told_the_flannel_device_is_unmanaged(string backend, string device)
    {
        await using var f = await HostBusFixture.StartAsync();
        f.NetworkManager.Devices[device] = NmDevicePath;
        f.NetworkManager.Devices["eth0"] = "/org/freedesktop/NetworkManager/Devices/2";

        await RunDeviceReadyAsync(f, backend);

        Assert.Equal([$"GetDeviceByIpIface {device}", $"Set {NmDevicePath} org.freedesktop.NetworkManager.Device Managed false"],
            f.NetworkManager.Calls);
        Assert.Contains(f.Log.Entries, e => e.Id.Id == 3206 && e.Message.Contains(NmDevicePath, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_port_is_opened_again_after_a_firewalld_reload_and_after_a_firewalld_restart()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";
        await using var integrator = await ReadyIntegratorAsync(f, """{"Type":"vxlan"}""");
        Assert.True(f.Firewalld.IsOpen("public 8472/udp"));

        f.Firewalld.Reload();
        Assert.False(f.Firewalld.IsOpen("public 8472/udp"));
        await Wait.UntilAsync(() => f.Firewalld.IsOpen("public 8472/udp"), TimeSpan.FromSeconds(10), "the port open again after the reload");
        Assert.Contains(f.Log.Entries, e => e.Id.Id == 3212 && e.Message.Contains("firewalld reloaded: opening 8472/udp again", StringComparison.Ordinal));

        await f.Firewalld.RestartAsync(f.Bus.Address, whileStopped: () => f.Firewalld.OpenPorts.Clear());
        await Wait.UntilAsync(() => f.Firewalld.IsOpen("public 8472/udp"), TimeSpan.FromSeconds(10), "the port open again after the restart");
        Assert.Contains(f.Log.Entries, e => e.Id.Id == 3212 && e.Message.Contains("firewalld started", StringComparison.Ordinal));
        await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(3, f.Firewalld.Calls.Count(c => c == "addPort public 8472 udp 0"));
        Assert.Equal(0, f.Log.Count(3205));
        Assert.Equal(0, f.Log.Count(3214));
    }

    [Fact]
    public async Task A_firewalld_that_starts_after_flanneld_gets_the_port()
    {
        await using var f = await HostBusFixture.StartAsync();
        await f.Firewalld.DisposeAsync();
        await using var integrator = await ReadyIntegratorAsync(f, """{"Type":"udp"}""");
        Assert.Empty(f.Firewalld.Calls);

        await f.Firewalld.StartAsync(f.Bus.Address);
        await Wait.UntilAsync(() => f.Firewalld.IsOpen("public 8285/udp"), TimeSpan.FromSeconds(10), "the port opened once firewalld is up");
    }

    [Fact]
    public async Task The_flannel_device_is_unmanaged_again_when_created_anew_or_when_NetworkManager_restarts()
    {
        const string Recreated = "/org/freedesktop/NetworkManager/Devices/13";
        await using var f = await HostBusFixture.StartAsync();
        f.NetworkManager.Devices["flannel.1"] = NmDevicePath;
        await using var integrator = await ReadyIntegratorAsync(f, """{"Type":"vxlan"}""");

        // Someone else's device: looked up, left alone, nothing logged.
        f.NetworkManager.AddDevice("eth1", "/org/freedesktop/NetworkManager/Devices/14");
        // Ours, deleted and created again (a new NM device, managed by default).
        f.NetworkManager.AddDevice("flannel.1", Recreated);
        string setRecreated = $"Set {Recreated} org.freedesktop.NetworkManager.Device Managed false";
        await Wait.UntilAsync(() => f.NetworkManager.Calls.Contains(setRecreated), TimeSpan.FromSeconds(10), "the recreated device unmanaged");

        await f.NetworkManager.RestartAsync(f.Bus.Address);
        await Wait.UntilAsync(() => f.NetworkManager.Calls.Count(c => c == setRecreated) == 2, TimeSpan.FromSeconds(10),
            "the device unmanaged again after NetworkManager restarted");
        await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(f.NetworkManager.Calls, c => c.Contains("Devices/14", StringComparison.Ordinal));
        Assert.Equal(0, f.Log.Count(3207));
        Assert.Equal(2, f.Log.Count(3213));
    }

    [Fact]
    public async Task A_NetworkManager_that_restarts_without_our_device_yet_is_no_warning_and_its_DeviceAdded_is_followed()
    {
        const string Later = "/org/freedesktop/NetworkManager/Devices/15";
        await using var f = await HostBusFixture.StartAsync();
        f.NetworkManager.Devices["flannel0"] = NmDevicePath;
        await using var integrator = await ReadyIntegratorAsync(f, """{"Type":"udp"}""");

        // Restarted NM has not listed its devices when it takes its name: ours is unknown for a moment.
        await f.NetworkManager.RestartAsync(f.Bus.Address, whileStopped: () => f.NetworkManager.Devices.Clear());
        await Wait.UntilAsync(() => f.NetworkManager.Calls.Count(c => c == "GetDeviceByIpIface flannel0") == 2, TimeSpan.FromSeconds(10),
            "the lookup after the restart");
        await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        f.NetworkManager.AddDevice("flannel0", Later);
        await Wait.UntilAsync(() => f.NetworkManager.Calls.Contains($"Set {Later} org.freedesktop.NetworkManager.Device Managed false"),
            TimeSpan.FromSeconds(10), "the device unmanaged once NM added it");
        Assert.Equal(0, f.Log.Count(3207));
    }

    [Fact]
    public async Task A_device_NetworkManager_does_not_know_is_a_warning_not_a_failure()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";

        await RunDeviceReadyAsync(f, """{"Type":"vxlan"}""");

        Assert.Equal(["GetDeviceByIpIface flannel.1"], f.NetworkManager.Calls);
        Assert.Contains(f.Log.Entries, e => e.Id.Id == 3207 && e.Message.Contains("org.freedesktop.NetworkManager.UnknownDevice", StringComparison.Ordinal));
        Assert.Equal(["public 8472/udp"], f.Firewalld.OpenPorts); // the firewalld part is not affected
    }

    [Fact]
    public async Task Docker_is_restarted_when_the_subnet_changed_and_the_flag_is_on()
    {
        await using var f = await HostBusFixture.StartAsync();
        await using (var integrator = f.Integrator(new DBusOptions { RestartDockerOnSubnetChange = true }))
        {
            integrator.Start();
            integrator.SubnetChanged(Ip4Network.ParseCidr("10.70.3.0/24"), Ip4Network.ParseCidr("10.70.3.0/24"));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Empty(f.Systemd.Calls); // unchanged: dockerd's --bip is still right

            integrator.SubnetChanged(Ip4Network.ParseCidr("10.70.3.0/24"), Ip4Network.ParseCidr("10.70.9.0/24"));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        Assert.Equal(["TryRestartUnit docker.service replace"], f.Systemd.Calls);
        Assert.Equal(1, f.Log.Count(3209));
        Assert.Equal(0, f.Log.Count(3008));
    }

    [Fact]
    public async Task Without_the_flag_a_changed_subnet_is_one_warning_naming_the_flag_and_docker_is_left_alone()
    {
        await using var f = await HostBusFixture.StartAsync();
        await using (var integrator = f.Integrator())
        {
            integrator.Start();
            integrator.SubnetChanged(Ip4Network.ParseCidr("10.70.3.0/24"), Ip4Network.ParseCidr("10.70.9.0/24"));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        Assert.Empty(f.Systemd.Calls);
        var warning = Assert.Single(f.Log.Entries, e => e.Id.Id == 3008);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("--restart-docker-on-subnet-change", warning.Message, StringComparison.Ordinal);
        Assert.Contains("systemctl restart docker", warning.Message, StringComparison.Ordinal);
        Assert.Contains("10.70.9.0/24", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_every_part_off_nothing_is_called_and_no_connection_is_made()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";
        f.NetworkManager.Devices["flannel0"] = NmDevicePath;
        var off = new DBusOptions { Firewalld = false, NetworkManagerUnmanaged = false, RestartDockerOnSubnetChange = false };
        await using (var integrator = f.Integrator(off))
        {
            integrator.Start();
            integrator.DeviceReady("eth0", BackendDBusNeeds.For(Config("""{"Type":"udp"}""")));
            integrator.SubnetChanged(Ip4Network.ParseCidr("10.70.3.0/24"), Ip4Network.ParseCidr("10.70.9.0/24"));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        Assert.Empty(f.AllCalls);
        Assert.Equal(0, f.Log.Count(3201)); // not even connected
        Assert.Equal(1, f.Log.Count(3008)); // the stale --bip warning still comes
    }

    [Fact]
    public async Task Each_part_has_its_own_opt_out()
    {
        await using var f = await HostBusFixture.StartAsync();
        f.Firewalld.InterfaceZones["eth0"] = "public";
        f.NetworkManager.Devices["flannel0"] = NmDevicePath;

        await RunDeviceReadyAsync(f, """{"Type":"udp"}""", new DBusOptions { Firewalld = false });
        Assert.Empty(f.Firewalld.Calls);
        Assert.Contains($"Set {NmDevicePath} org.freedesktop.NetworkManager.Device Managed false", f.NetworkManager.Calls);

        await RunDeviceReadyAsync(f, """{"Type":"udp"}""", new DBusOptions { NetworkManagerUnmanaged = false });
        Assert.Equal(["public 8285/udp"], f.Firewalld.OpenPorts);
        Assert.Equal(2, f.NetworkManager.Calls.Count); // only the first run's two calls
    }

    [Fact]
    public async Task Services_absent_from_the_bus_are_skipped_quietly()
    {
        using var bus = await PrivateBus.StartAsync(); // a bus with nobody on it
        var log = new ListLogger<DBusIntegrator>();
        await using (var integrator = new DBusIntegrator(new DBusOptions { BusAddress = bus.Address }, log))
        {
            integrator.Start();
            integrator.DeviceReady("eth0", BackendDBusNeeds.For(Config("""{"Type":"udp"}""")));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        Assert.Equal(1, log.Count(3201));
        Assert.Equal(2, log.Count(3202));
        Assert.DoesNotContain(log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task No_bus_at_all_is_one_information_line_and_costs_no_time()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"flannel-no-bus-{Guid.NewGuid():N}", "bus.sock");
        var log = new ListLogger<DBusIntegrator>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await using (var integrator = new DBusIntegrator(new DBusOptions { BusAddress = "unix:path=" + missing }, log))
        {
            integrator.Start();
            integrator.DeviceReady("eth0", BackendDBusNeeds.For(Config("""{"Type":"vxlan"}""")));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"took {sw.ElapsedMilliseconds} ms");
        var only = Assert.Single(log.Entries);
        Assert.Equal(3200, only.Id.Id);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, only.Level);
        Assert.Contains(missing, only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_docker_restart_that_cannot_happen_for_lack_of_a_bus_is_a_warning()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"flannel-no-bus-{Guid.NewGuid():N}", "bus.sock");
        var log = new ListLogger<DBusIntegrator>();
        await using (var integrator = new DBusIntegrator(
            new DBusOptions { BusAddress = "unix:path=" + missing, RestartDockerOnSubnetChange = true }, log))
        {
            integrator.Start();
            integrator.SubnetChanged(Ip4Network.ParseCidr("10.70.3.0/24"), Ip4Network.ParseCidr("10.70.9.0/24"));
            await integrator.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        var warning = Assert.Single(log.Entries, e => e.Id.Id == 3210);
        Assert.Contains("systemctl restart docker", warning.Message, StringComparison.Ordinal);
    }
}
