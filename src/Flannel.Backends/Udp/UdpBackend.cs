using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Backends.Tun;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.Udp;

/// <summary>
/// udp: flanneld's portable fallback (compat §6). A TUN device flannel0 takes every packet for the Network; our pump
/// sends each inner IPv4 packet as one UDP datagram to the owning peer's PublicIP on the backend port, and writes
/// what arrives back into the TUN. Same wire as flanneld's udp backend, so mixed fleets work.
/// </summary>
public sealed class UdpBackend : IBackend
{
    /// <summary>IPv4 (20) + UDP (8): what encapsulation costs, so the TUN MTU is the interface MTU minus this.</summary>
    public const int Overhead = 28;

    private readonly BackendContext _context;

    public UdpBackend(BackendContext context) => _context = context;

    public string Type => BackendTypes.Udp;

    public Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct)
    {
        var options = UdpOptions.Parse(_context.Config.BackendJson);
        var iface = _context.Iface;
        int mtu = iface.Mtu - Overhead;
        TunDevice tun;
        try
        {
            // One queue per core for the TUN-to-wire direction (the kernel spreads inner flows over the queues); the
            // wire side is one socket, since all traffic from a peer is one UDP 4-tuple.
            tun = TunDevice.Open("flannel%d", queues: Math.Clamp(Environment.ProcessorCount, 1, 4));
        }
        catch (LinuxException e)
        {
            throw new BackendException($"udp backend: cannot create the TUN device: {e.Message}", e);
        }
        UdpPump pump;
        RouteNetlink rtnl;
        try
        {
            pump = new UdpPump(tun, iface.Address, options.Port);
            rtnl = RouteNetlink.Open();
        }
        catch (Exception e) when (e is LinuxException or NetlinkException)
        {
            tun.Dispose();
            throw new BackendException($"udp backend: cannot listen on {iface.Address}:{options.Port}: {e.Message}", e);
        }
        // flanneld's udp lease carries the PublicIP only: no BackendType, no BackendData (compat §1.2).
        var network = new UdpNetwork(_context, tun, pump, rtnl, new LeaseAttrs(iface.PublicIP), mtu, options.Port);
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
