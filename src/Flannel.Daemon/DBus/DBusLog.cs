using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.DBus;

/// <summary>
/// Log events of the D-Bus host integration (event ids 3200-3249, stable). Parameters follow the placeholders' order:
/// with an <c>@interface</c> parameter out of order, Serilog printed "{Interface}" unfilled (the in-process formatter did not).
/// </summary>
internal static partial class DBusLog
{
    [LoggerMessage(3200, LogLevel.Information, "No D-Bus system bus at {Address} ({Reason}): firewalld, NetworkManager and systemd integration are off")]
    public static partial void NoSystemBus(ILogger log, string address, string reason);

    [LoggerMessage(3201, LogLevel.Debug, "Connected to the D-Bus system bus at {Address} as {UniqueName}")]
    public static partial void Connected(ILogger log, string address, string uniqueName);

    [LoggerMessage(3202, LogLevel.Debug, "{Service} is not on the system bus; nothing to do for it")]
    public static partial void ServiceAbsent(ILogger log, string service);

    [LoggerMessage(3203, LogLevel.Information, "firewalld: opened {Port}/{Protocol} in zone {Zone} of {Interface} (runtime configuration only)")]
    public static partial void FirewalldPortOpened(ILogger log, int port, string protocol, string zone, string @interface);

    [LoggerMessage(3204, LogLevel.Information, "firewalld: {Port}/{Protocol} is already open in zone {Zone} of {Interface}")]
    public static partial void FirewalldPortAlreadyOpen(ILogger log, int port, string protocol, string zone, string @interface);

    [LoggerMessage(3205, LogLevel.Warning, "firewalld: could not open {Port}/{Protocol} for {Interface}: {Error}")]
    public static partial void FirewalldFailed(ILogger log, int port, string protocol, string @interface, string error);

    [LoggerMessage(3206, LogLevel.Information, "NetworkManager: {Device} ({DevicePath}) is now unmanaged")]
    public static partial void DeviceUnmanaged(ILogger log, string device, string devicePath);

    [LoggerMessage(3207, LogLevel.Warning, "NetworkManager: could not mark {Device} unmanaged: {Error}")]
    public static partial void DeviceUnmanagedFailed(ILogger log, string device, string error);

    [LoggerMessage(3208, LogLevel.Information, "Our subnet changed from {OldSubnet} to {NewSubnet}: restarting {Unit} so dockerd picks up the new --bip")]
    public static partial void RestartingDocker(ILogger log, string oldSubnet, string newSubnet, string unit);

    [LoggerMessage(3209, LogLevel.Information, "systemd: queued a restart of {Unit} (job {Job})")]
    public static partial void DockerRestartQueued(ILogger log, string unit, string job);

    [LoggerMessage(3210, LogLevel.Warning, "systemd: could not restart {Unit} after the subnet changed to {NewSubnet}: {Error}; dockerd still runs with the old --bip until `systemctl restart docker`")]
    public static partial void DockerRestartFailed(ILogger log, string unit, string newSubnet, string error);

    [LoggerMessage(3212, LogLevel.Information, "firewalld {Change}: opening {Port}/{Protocol} again (its runtime configuration was reset)")]
    public static partial void FirewalldChanged(ILogger log, string change, int port, string protocol);

    [LoggerMessage(3213, LogLevel.Information, "NetworkManager {Change} {Device}: marking it unmanaged again")]
    public static partial void NetworkManagerChanged(ILogger log, string change, string device);

    [LoggerMessage(3214, LogLevel.Warning, "D-Bus: could not subscribe to a signal ({Error}); a firewalld reload or NetworkManager restart will not be noticed until flanneld restarts")]
    public static partial void SubscribeFailed(ILogger log, string error);

    [LoggerMessage(3211, LogLevel.Warning, "D-Bus host integration task failed: {Error}")]
    public static partial void TaskFailed(ILogger log, string error);
}
