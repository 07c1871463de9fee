using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>The signals that undo our host integration: a service (re)starting, firewalld reloading, NM adding a device.</summary>
internal static class BusSignals
{
    /// <summary>
    /// Calls <paramref name="started"/> each time <paramref name="service"/> gets an owner on the bus: the service
    /// started (or restarted) after we configured it, with its runtime state fresh.
    /// </summary>
    public static async Task<IDisposable> OnServiceStartedAsync(DBusConnection bus, string service, Action started) =>
        await bus.AddMatchAsync(
            new MatchRule
            {
                Type = MessageType.Signal, Sender = "org.freedesktop.DBus", Path = "/org/freedesktop/DBus",
                Interface = "org.freedesktop.DBus", Member = "NameOwnerChanged", Arg0 = service,
            },
            static (Message m, object? _) =>
            {
                var r = m.GetBodyReader();
                r.ReadString(); // name
                r.ReadString(); // old owner
                return r.ReadString(); // new owner ("" when the service went away)
            },
            (Notification<string> n) =>
            {
                if (n.HasValue && n.Value.Length > 0)
                {
                    started();
                }
            },
            emitOnCapturedContext: false, ObserverFlags.None).ConfigureAwait(false);

    /// <summary>Calls <paramref name="raised"/> for each signal <paramref name="member"/> of <paramref name="iface"/> on <paramref name="path"/>.</summary>
    public static async Task<IDisposable> OnSignalAsync(DBusConnection bus, string path, string iface, string member, Action<string?> raised) =>
        await bus.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Path = path, Interface = iface, Member = member },
            // The first argument when it is an object path (NM's DeviceAdded), else null (firewalld's Reloaded has none).
            static (Message m, object? _) => m.SignatureAsString == "o" ? m.GetBodyReader().ReadObjectPathAsString() : null,
            (Notification<string?> n) =>
            {
                if (n.HasValue)
                {
                    raised(n.Value);
                }
            },
            emitOnCapturedContext: false, ObserverFlags.None).ConfigureAwait(false);
}
