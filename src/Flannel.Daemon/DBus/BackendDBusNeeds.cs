using Flannel.Backends;
using Flannel.Backends.Udp;
using Flannel.Backends.Vxlan;
using Flannel.Subnet.Config;

namespace Flannel.Daemon.DBus;

/// <summary>
/// What a running backend needs from the host: the UDP port peers send to (to open in firewalld) and the device
/// NetworkManager should leave alone. host-gw needs neither: it has no device and no encapsulation.
/// </summary>
internal sealed record BackendDBusNeeds(string? DeviceName, int? UdpPort)
{
    public static readonly BackendDBusNeeds None = new(null, null);

    public static BackendDBusNeeds For(NetworkConfig config, IBackendNetwork network) => network switch
    {
        // The TUN name comes from the kernel ("flannel%d"), so ask the device rather than assume flannel0.
        UdpNetwork udp => new BackendDBusNeeds(udp.DeviceName, udp.Port),
        VxlanNetwork vxlan => new BackendDBusNeeds(vxlan.DeviceName, VxlanPort(config)),
        _ => None,
    };

    /// <summary>The same answer from the config alone, for a backend that is not running (and for tests).</summary>
    public static BackendDBusNeeds For(NetworkConfig config) => BackendTypes.Normalize(config.BackendType) switch
    {
        BackendTypes.Udp => new BackendDBusNeeds("flannel0", UdpOptions.Parse(config.BackendJson).Port),
        BackendTypes.Vxlan => new BackendDBusNeeds($"flannel.{VxlanOptions.Parse(config.BackendJson).Vni}", VxlanPort(config)),
        _ => None,
    };

    // Port 0 leaves the choice to the kernel, which uses its pre-IANA default.
    private static int VxlanPort(NetworkConfig config) =>
        VxlanOptions.Parse(config.BackendJson).Port is var p and not 0 ? p : VxlanOptions.KernelDefaultPort;
}
