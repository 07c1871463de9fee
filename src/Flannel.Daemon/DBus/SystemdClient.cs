using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>systemd's manager API, for restarting dockerd when our subnet (its --bip) changed.</summary>
internal sealed class SystemdClient(DBusConnection connection)
{
    public const string ServiceName = "org.freedesktop.systemd1";

    /// <summary>
    /// Restarts the unit if it is running (a stopped docker stays stopped). Returns the job path at once; systemd runs
    /// the job after we return, so a docker ordered After=flanneld does not wait on us.
    /// </summary>
    public Task<string> TryRestartUnitAsync(string unit)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "TryRestartUnit", signature: "ss");
        w.WriteString(unit);
        w.WriteString("replace");
        return connection.CallMethodAsync(w.CreateMessage(), static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString());
    }
}
