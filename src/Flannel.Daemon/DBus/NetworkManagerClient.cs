using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>
/// NetworkManager's device API. An unmanaged flannel device is left alone: NM neither takes its address away nor
/// brings it down when a connection profile matches it.
/// </summary>
internal sealed class NetworkManagerClient(DBusConnection connection)
{
    public const string ServiceName = "org.freedesktop.NetworkManager";
    public const string ObjectPath = "/org/freedesktop/NetworkManager";
    public const string UnknownDevice = "org.freedesktop.NetworkManager.UnknownDevice";
    private const string DeviceInterface = "org.freedesktop.NetworkManager.Device";

    /// <exception cref="DBusErrorReplyException">org.freedesktop.NetworkManager.UnknownDevice when NM has no such device.</exception>
    public Task<string> GetDeviceByIpIfaceAsync(string iface)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, ObjectPath, ServiceName, "GetDeviceByIpIface", signature: "s");
        w.WriteString(iface);
        return connection.CallMethodAsync(w.CreateMessage(), static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString());
    }

    public Task SetUnmanagedAsync(string devicePath)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, devicePath, "org.freedesktop.DBus.Properties", "Set", signature: "ssv");
        w.WriteString(DeviceInterface);
        w.WriteString("Managed");
        w.WriteVariantBool(false);
        return connection.CallMethodAsync(w.CreateMessage());
    }
}
