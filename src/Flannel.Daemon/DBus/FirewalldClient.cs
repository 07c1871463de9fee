using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>
/// firewalld's zone API (org.fedoraproject.FirewallD1.zone). Only the runtime configuration is changed: a port added
/// here is gone after <c>firewall-cmd --reload</c> or a reboot, and flanneld adds it again at its next start.
/// </summary>
internal sealed class FirewalldClient(DBusConnection connection)
{
    public const string ServiceName = "org.fedoraproject.FirewallD1";
    public const string ObjectPath = "/org/fedoraproject/FirewallD1";
    private const string MainInterface = "org.fedoraproject.FirewallD1";
    private const string ZoneInterface = "org.fedoraproject.FirewallD1.zone";

    /// <summary>The zone the interface is bound to; an interface in no zone is governed by the default zone.</summary>
    public async Task<string> ZoneOfInterfaceAsync(string iface)
    {
        string zone = await CallStringAsync(ZoneInterface, "getZoneOfInterface", iface).ConfigureAwait(false);
        return zone.Length > 0 ? zone : await CallStringAsync(MainInterface, "getDefaultZone", null).ConfigureAwait(false);
    }

    public Task<bool> QueryPortAsync(string zone, int port, string protocol)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, ObjectPath, ZoneInterface, "queryPort", signature: "sss");
        w.WriteString(zone);
        w.WriteString(PortText(port));
        w.WriteString(protocol);
        return connection.CallMethodAsync(w.CreateMessage(), static (Message m, object? _) => m.GetBodyReader().ReadBool());
    }

    /// <summary>Adds the port to the zone's runtime configuration, with no expiry (timeout 0).</summary>
    public Task AddPortAsync(string zone, int port, string protocol)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, ObjectPath, ZoneInterface, "addPort", signature: "sssi");
        w.WriteString(zone);
        w.WriteString(PortText(port));
        w.WriteString(protocol);
        w.WriteInt32(0);
        return connection.CallMethodAsync(w.CreateMessage());
    }

    private Task<string> CallStringAsync(string iface, string member, string? arg)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(ServiceName, ObjectPath, iface, member, signature: arg is null ? null : "s");
        if (arg is not null)
        {
            w.WriteString(arg);
        }
        return connection.CallMethodAsync(w.CreateMessage(), static (Message m, object? _) => m.GetBodyReader().ReadString());
    }

    // firewalld takes ports as strings ("8285" or a range "8000-8100").
    private static string PortText(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
