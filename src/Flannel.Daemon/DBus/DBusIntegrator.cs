using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;
using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>
/// The daemon's D-Bus work: firewalld and NetworkManager once the devices exist, a docker restart once the env files
/// name a new subnet. Everything runs in the background, off the path to READY=1, and every failure is a warning:
/// the overlay works without any of it. No bus at all (the usual case) is one Information line.
/// </summary>
internal sealed class DBusIntegrator : IAsyncDisposable
{
    public const string DockerUnit = "docker.service";
    private const string Udp = "udp";

    private readonly DBusOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _pending = [];
    private readonly List<IDisposable> _watches = [];
    private Task<DBusConnection?>? _bus;
    private int _disposed;

    public DBusIntegrator(DBusOptions options, ILogger<DBusIntegrator> log)
    {
        _options = options;
        _log = log;
    }

    private string Address => _options.BusAddress ?? DBusAddress.System ?? "unix:path=/var/run/dbus/system_bus_socket";

    /// <summary>Starts connecting, so the connection is ready by the time the devices are; no-op with every part off.</summary>
    public void Start()
    {
        if (_options.AnyEnabled)
        {
            _ = Bus();
        }
    }

    /// <summary>
    /// The devices exist: open the port and unmanage the device, in the background, and do it again whenever the
    /// host undoes it (firewalld reloaded or restarted, NetworkManager restarted or the device created anew).
    /// </summary>
    public void DeviceReady(string externalInterface, BackendDBusNeeds needs)
    {
        if (_options.Firewalld && needs.UdpPort is { } port)
        {
            Track(KeepPortOpenAsync(externalInterface, port));
        }
        if (_options.NetworkManagerUnmanaged && needs.DeviceName is { } device)
        {
            Track(KeepUnmanagedAsync(device));
        }
    }

    // A runtime-only port is gone after `firewall-cmd --reload` (firewalld emits Reloaded) and after a firewalld
    // restart (a new owner of its name); firewalld started after us is the second case too. Subscribed before the
    // first open, so a reload in between is not missed; queryPort keeps a repeated open harmless.
    private async Task KeepPortOpenAsync(string iface, int port)
    {
        if (await Bus().ConfigureAwait(false) is { } bus)
        {
            await Subscribe(BusSignals.OnServiceStartedAsync(bus, FirewalldClient.ServiceName, () => Reopen("started")),
                BusSignals.OnSignalAsync(bus, FirewalldClient.ObjectPath, FirewalldClient.ServiceName, "Reloaded", _ => Reopen("reloaded"))).ConfigureAwait(false);
        }
        await OpenPortAsync(iface, port).ConfigureAwait(false);

        void Reopen(string what)
        {
            DBusLog.FirewalldChanged(_log, what, port, Udp);
            Track(OpenPortAsync(iface, port));
        }
    }

    // NetworkManager forgets the Managed=false of a device when it restarts, and a device deleted and created again
    // (the backend's reconcile does that) is a new NM device that NM manages by default.
    private async Task KeepUnmanagedAsync(string device)
    {
        if (await Bus().ConfigureAwait(false) is { } bus)
        {
            await Subscribe(
                BusSignals.OnServiceStartedAsync(bus, NetworkManagerClient.ServiceName, () =>
                {
                    DBusLog.NetworkManagerChanged(_log, "started", device);
                    Track(UnmanageAsync(device, afterRestart: true));
                }),
                BusSignals.OnSignalAsync(bus, NetworkManagerClient.ObjectPath, NetworkManagerClient.ServiceName, "DeviceAdded",
                    added => Track(UnmanageIfAddedAsync(device, added)))).ConfigureAwait(false);
        }
        await UnmanageAsync(device).ConfigureAwait(false);
    }

    private async Task Subscribe(params Task<IDisposable>[] subscriptions)
    {
        foreach (var subscription in subscriptions)
        {
            try
            {
                var watch = await subscription.WaitAsync(_options.CallTimeout, _stopping.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    _watches.Add(watch);
                }
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                DBusLog.SubscribeFailed(_log, SystemBus.Describe(e));
            }
        }
    }

    // DeviceAdded names the new device's object path; only ours is unmanaged, any other device is not our business.
    private async Task UnmanageIfAddedAsync(string device, string? addedPath)
    {
        try
        {
            if (addedPath is null || await Bus().ConfigureAwait(false) is not { } bus)
            {
                return;
            }
            var nm = new NetworkManagerClient(bus);
            string path = await Call(nm.GetDeviceByIpIfaceAsync(device)).ConfigureAwait(false);
            if (path == addedPath)
            {
                DBusLog.NetworkManagerChanged(_log, "added a new device for", device);
                await Call(nm.SetUnmanagedAsync(path)).ConfigureAwait(false);
                DBusLog.DeviceUnmanaged(_log, device, path);
            }
        }
        catch (DBusErrorReplyException)
        {
            // UnknownDevice: the added device is not ours and ours is not (yet) known to NM; nothing to do.
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            DBusLog.DeviceUnmanagedFailed(_log, device, SystemBus.Describe(e));
        }
    }

    /// <summary>
    /// subnet.env now names a different subnet than the one dockerd was started with (the previous file's); the env
    /// files are already written, so a restarted dockerd reads the new --bip.
    /// </summary>
    public void SubnetChanged(Ip4Network previous, Ip4Network current)
    {
        if (previous == current)
        {
            return;
        }
        if (!_options.RestartDockerOnSubnetChange)
        {
            DaemonLog.SubnetChanged(_log, previous.ToString(), current.ToString());
            return;
        }
        DBusLog.RestartingDocker(_log, previous.ToString(), current.ToString(), DockerUnit);
        Track(RestartDockerAsync(current));
    }

    /// <summary>Completes when every background call so far has finished (each logs its own outcome).</summary>
    public Task WhenIdleAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_pending);
        }
    }

    private async Task OpenPortAsync(string iface, int port)
    {
        try
        {
            if (await ServiceAsync(FirewalldClient.ServiceName).ConfigureAwait(false) is not { } bus)
            {
                return;
            }
            var firewalld = new FirewalldClient(bus);
            string zone = await Call(firewalld.ZoneOfInterfaceAsync(iface)).ConfigureAwait(false);
            if (await Call(firewalld.QueryPortAsync(zone, port, Udp)).ConfigureAwait(false))
            {
                DBusLog.FirewalldPortAlreadyOpen(_log, port, Udp, zone, iface);
                return;
            }
            await Call(firewalld.AddPortAsync(zone, port, Udp)).ConfigureAwait(false);
            DBusLog.FirewalldPortOpened(_log, port, Udp, zone, iface);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            DBusLog.FirewalldFailed(_log, port, Udp, iface, SystemBus.Describe(e));
        }
    }

    private async Task UnmanageAsync(string device, bool afterRestart = false)
    {
        try
        {
            if (await ServiceAsync(NetworkManagerClient.ServiceName).ConfigureAwait(false) is not { } bus)
            {
                return;
            }
            var nm = new NetworkManagerClient(bus);
            string path = await Call(nm.GetDeviceByIpIfaceAsync(device)).ConfigureAwait(false);
            await Call(nm.SetUnmanagedAsync(path)).ConfigureAwait(false);
            DBusLog.DeviceUnmanaged(_log, device, path);
        }
        catch (DBusErrorReplyException e) when (afterRestart && e.ErrorName == NetworkManagerClient.UnknownDevice)
        {
            // A NetworkManager that has just started may not have listed its devices yet: its DeviceAdded for ours
            // follows and is handled there, so this is no reason for a warning.
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            // Includes NM's UnknownDevice (NM ignores this kind of device, or has not seen it yet): nothing to undo.
            DBusLog.DeviceUnmanagedFailed(_log, device, SystemBus.Describe(e));
        }
    }

    private async Task RestartDockerAsync(Ip4Network current)
    {
        try
        {
            if (await Bus().ConfigureAwait(false) is not { } bus)
            {
                DBusLog.DockerRestartFailed(_log, DockerUnit, current.ToString(), "no system bus");
                return;
            }
            string job = await Call(new SystemdClient(bus).TryRestartUnitAsync(DockerUnit)).ConfigureAwait(false);
            DBusLog.DockerRestartQueued(_log, DockerUnit, job);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            DBusLog.DockerRestartFailed(_log, DockerUnit, current.ToString(), SystemBus.Describe(e));
        }
    }

    // The bus, when the service is on it; an absent service is the normal case on a host without it, not a warning.
    private async Task<DBusConnection?> ServiceAsync(string name)
    {
        if (await Bus().ConfigureAwait(false) is not { } bus)
        {
            return null;
        }
        if (!await Call(SystemBus.NameHasOwnerAsync(bus, name)).ConfigureAwait(false))
        {
            DBusLog.ServiceAbsent(_log, name);
            return null;
        }
        return bus;
    }

    private Task<DBusConnection?> Bus()
    {
        lock (_lock)
        {
            return _bus ??= ConnectAsync();
        }
    }

    private async Task<DBusConnection?> ConnectAsync()
    {
        string address = Address;
        try
        {
            var bus = await SystemBus.ConnectAsync(address, _options.ConnectTimeout, _stopping.Token).ConfigureAwait(false);
            DBusLog.Connected(_log, address, bus.UniqueName ?? "");
            return bus;
        }
        catch (Exception e)
        {
            if (!_stopping.IsCancellationRequested)
            {
                DBusLog.NoSystemBus(_log, address, e.InnerException?.Message ?? SystemBus.Describe(e));
            }
            return null;
        }
    }

    // Tmds.DBus.Protocol calls take no token: the deadline and shutdown bound the wait instead.
    private Task<T> Call<T>(Task<T> call) => call.WaitAsync(_options.CallTimeout, _stopping.Token);

    private Task Call(Task call) => call.WaitAsync(_options.CallTimeout, _stopping.Token);

    private void Track(Task task)
    {
        lock (_lock)
        {
            _pending.RemoveAll(t => t.IsCompleted);
            _pending.Add(task.ContinueWith(t =>
            {
                // Each call logs its own failure; this is for a bug in that logging, so it never goes unobserved.
                if (t.Exception is { } e && !_stopping.IsCancellationRequested)
                {
                    DBusLog.TaskFailed(_log, e.GetBaseException().Message);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        }
    }

    // Called at stop by the network service and again by the host's container.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task pending = WhenIdleAsync();
        await pending.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task<DBusConnection?>? bus;
        lock (_lock)
        {
            bus = _bus;
            foreach (var watch in _watches)
            {
                watch.Dispose();
            }
            _watches.Clear();
        }
        if (bus is { IsCompletedSuccessfully: true, Result: { } connection })
        {
            connection.Dispose();
        }
        _stopping.Dispose();
    }
}
