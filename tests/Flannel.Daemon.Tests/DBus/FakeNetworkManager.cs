using Tmds.DBus.Protocol;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>NetworkManager's device lookup and the Device.Managed property, as the daemon uses them.</summary>
internal sealed class FakeNetworkManager() : FakeService("/org/freedesktop/NetworkManager")
{
    /// <summary>Interface name to device object path; any other name is NM's UnknownDevice error.</summary>
    public Dictionary<string, string> Devices { get; } = [];

    public override bool HandlesChildPaths => true; // the devices live under /org/freedesktop/NetworkManager/Devices

    protected override string ServiceName => "org.freedesktop.NetworkManager";

    /// <summary>A device appears (created, or created again): NM gives it a new object path and emits DeviceAdded.</summary>
    public void AddDevice(string name, string devicePath)
    {
        Devices[name] = devicePath;
        EmitSignal("org.freedesktop.NetworkManager", "DeviceAdded", devicePath);
    }

    protected override void Handle(MethodContext context, string iface, string member, string path, ref Reader body)
    {
        switch ((iface, member))
        {
            case ("org.freedesktop.NetworkManager", "GetDeviceByIpIface"):
            {
                string name = body.ReadString();
                Record($"GetDeviceByIpIface {name}");
                if (Devices.TryGetValue(name, out string? device))
                {
                    ReplyObjectPath(context, device);
                }
                else
                {
                    context.ReplyError("org.freedesktop.NetworkManager.UnknownDevice", "No device found for the requested iface.");
                }
                break;
            }
            case ("org.freedesktop.DBus.Properties", "Set"):
            {
                string propertyInterface = body.ReadString(), property = body.ReadString();
                var value = body.ReadVariantValue();
                string text = value.Type == VariantValueType.Bool ? (value.GetBool() ? "true" : "false") : $"({value.Type})";
                Record($"Set {path} {propertyInterface} {property} {text}");
                ReplyEmpty(context);
                break;
            }
            default:
                Record($"{iface}.{member}");
                break;
        }
    }
}
