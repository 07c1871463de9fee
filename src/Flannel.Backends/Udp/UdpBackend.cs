using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Backends.Tun;

namespace Flannel.Backends.Udp;

/// <summary>
/// udp: flanneld's portable fallback (compat §6). A TUN device flannel0 takes every packet for the Network; our pump
/// sends each inner IPv4 packet as one UDP datagram to the owning peer's PublicIP on the backend port, and writes
/// what arrives back into the TUN. Same wire as flanneld's udp backend, so mixed fleets work.
/// </summary>
internal sealed class UdpBackend : IBackend
{
    /// <summary>IPv4 (20) + UDP (8): what encapsulation costs, so the TUN MTU is the interface MTU minus this.</summary>
    public const int Overhead = 28;

    private readonly BackendContext _context;

    public UdpBackend(BackendContext context) => _context = context;

    public string Type => BackendTypes.Udp;

    /// <summary>
    /// Refuses a config udp cannot carry: flanneld's udp backend moves IPv4 packets only (its TUN pump reads the IPv4
    /// header for the destination and its lease has no IPv6 attributes), so IPv6 traffic of an EnableIPv6 network
    /// would be silently dropped. Checked at start and by <c>flanneld check-config</c>.
    /// </summary>
    /// <exception cref="BackendException">IPv6 enabled, or IPv4 disabled.</exception>
    public static void CheckFamilies(Flannel.Subnet.Config.NetworkConfig config)
    {
        if (config.EnableIPv6 || !config.EnableIPv4)
        {
            throw new BackendException(
                "the udp backend carries IPv4 only (as flanneld's does): a network with " +
                (config.EnableIPv6 ? "\"EnableIPv6\": true" : "\"EnableIPv4\": false") +
                " needs the vxlan or host-gw backend");
        }
    }

    public Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct)
    {
        CheckFamilies(_context.Config);
        var options = UdpOptions.Parse(_context.Config.BackendJson);
        var iface = _context.Iface;
        int mtu = iface.Mtu - Overhead;
        // One queue per core for the TUN-to-wire direction (the kernel spreads inner flows over the queues); the wire
        // side is one socket, since all traffic from a peer is one UDP 4-tuple. A device opened again after it was
        // deleted gets the same name and settings.
        int queues = Math.Clamp(Environment.ProcessorCount, 1, 4);
        TunDevice tun;
        try
        {
            tun = TunDevice.Open("flannel%d", queues);
        }
        catch (LinuxException e)
        {
            throw new BackendException($"udp backend: cannot create the TUN device: {e.Message}", e);
        }
        UdpPump? pump = null;
        SafeFdHandle? socket = null;
        RtnetlinkClient rtnl;
        bool gro;
        try
        {
            socket = UdpSocket.Open(iface.Address, options.Port, out gro);
            pump = new UdpPump(tun.QueueCount, tun.VnetHeader, tun.Tso, options.Port);
            rtnl = RtnetlinkClient.Open();
        }
        catch (Exception e) when (e is LinuxException or NetlinkException)
        {
            pump?.Dispose();
            socket?.Dispose();
            tun.Dispose();
            throw new BackendException($"udp backend: cannot listen on {iface.Address}:{options.Port}: {e.Message}", e);
        }
        var network = new UdpNetwork(_context, tun, pump, socket, rtnl, mtu, options.Port, gro, name => TunDevice.Open(name, queues));
        try
        {
            network.SetUpDevice();
        }
        catch
        {
            network.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return Task.FromResult<IBackendNetwork>(network);
    }
}
