using Flannel.Daemon.DBus;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>A private bus with firewalld, NetworkManager and systemd stand-ins on it; all stopped on dispose.</summary>
internal sealed class HostBusFixture : IAsyncDisposable
{
    private HostBusFixture(PrivateBus bus)
    {
        Bus = bus;
    }

    public PrivateBus Bus { get; }

    public FakeFirewalld Firewalld { get; } = new();

    public FakeNetworkManager NetworkManager { get; } = new();

    public FakeSystemd Systemd { get; } = new();

    public ListLogger<DBusIntegrator> Log { get; } = new();

    /// <summary>Every call any stand-in received, in one list per service, for "nothing was called" checks.</summary>
    public IEnumerable<string> AllCalls => [.. Firewalld.Calls, .. NetworkManager.Calls, .. Systemd.Calls];

    public static async Task<HostBusFixture> StartAsync()
    {
        var f = new HostBusFixture(await PrivateBus.StartAsync());
        try
        {
            await f.Firewalld.StartAsync(f.Bus.Address);
            await f.NetworkManager.StartAsync(f.Bus.Address);
            await f.Systemd.StartAsync(f.Bus.Address);
            return f;
        }
        catch
        {
            await f.DisposeAsync();
            throw;
        }
    }

    public DBusIntegrator Integrator(DBusOptions? options = null) =>
        new((options ?? new DBusOptions()) with { BusAddress = Bus.Address }, Log);

    public async ValueTask DisposeAsync()
    {
        await Firewalld.DisposeAsync();
        await NetworkManager.DisposeAsync();
        await Systemd.DisposeAsync();
        Bus.Dispose();
    }
}
