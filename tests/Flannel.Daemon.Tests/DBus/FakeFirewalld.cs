using Tmds.DBus.Protocol;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>
/// firewalld's D-Bus API as the daemon uses it (runtime zone methods on /org/fedoraproject/FirewallD1). The real
/// firewalld is never installed or run here: it would rewrite this machine's root-namespace firewall.
/// </summary>
internal sealed class FakeFirewalld() : FakeService("/org/fedoraproject/FirewallD1")
{
    public Dictionary<string, string> InterfaceZones { get; } = [];

    public string DefaultZone { get; set; } = "public";

    /// <summary>The runtime configuration's open ports, as "zone port/protocol".</summary>
    public HashSet<string> OpenPorts { get; } = [];

    /// <summary>OpenPorts read from a test thread while the bus thread may add to it.</summary>
    public bool IsOpen(string zonePortProtocol)
    {
        lock (OpenPorts)
        {
            return OpenPorts.Contains(zonePortProtocol);
        }
    }

    protected override string ServiceName => "org.fedoraproject.FirewallD1";

    /// <summary>`firewall-cmd --reload`: the runtime configuration is rebuilt from the permanent one, then Reloaded.</summary>
    public void Reload()
    {
        lock (OpenPorts)
        {
            OpenPorts.Clear();
        }
        EmitSignal("org.fedoraproject.FirewallD1", "Reloaded");
    }

    protected override void Handle(MethodContext context, string iface, string member, string path, ref Reader body)
    {
        switch ((iface, member))
        {
            case ("org.fedoraproject.FirewallD1.zone", "getZoneOfInterface"):
            {
                string name = body.ReadString();
                Record($"getZoneOfInterface {name}");
                // firewalld answers "" for an interface bound to no zone.
                ReplyString(context, InterfaceZones.GetValueOrDefault(name, ""));
                break;
            }
            case ("org.fedoraproject.FirewallD1", "getDefaultZone"):
                Record("getDefaultZone");
                ReplyString(context, DefaultZone);
                break;
            case ("org.fedoraproject.FirewallD1.zone", "queryPort"):
            {
                string zone = body.ReadString(), port = body.ReadString(), protocol = body.ReadString();
                Record($"queryPort {zone} {port} {protocol}");
                ReplyBool(context, OpenPorts.Contains($"{zone} {port}/{protocol}"));
                break;
            }
            case ("org.fedoraproject.FirewallD1.zone", "addPort"):
            {
                string zone = body.ReadString(), port = body.ReadString(), protocol = body.ReadString();
                int timeout = body.ReadInt32();
                Record($"addPort {zone} {port} {protocol} {timeout}");
                bool added;
                lock (OpenPorts)
                {
                    added = OpenPorts.Add($"{zone} {port}/{protocol}");
                }
                if (!added)
                {
                    context.ReplyError("org.fedoraproject.FirewallD1.Exception", $"ALREADY_ENABLED: '{port}:{protocol}' already in '{zone}'");
                    break;
                }
                ReplyString(context, zone);
                break;
            }
            default:
                Record($"{iface}.{member}");
                break;
        }
    }
}
