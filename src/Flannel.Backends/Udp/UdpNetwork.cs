using Flannel.Backends.Netlink;
using Flannel.Backends.Tun;
using Flannel.Subnet;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Udp;

/// <summary>
/// The udp backend running for our lease: keeps flannel0's MTU, address and Network route right (reconciled every
/// 10 s, so a route deleted by someone comes back), turns lease events into a new peer table for the pump, and runs
/// the pump until cancelled.
/// </summary>
public sealed class UdpNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);

    private readonly BackendContext _context;
    private readonly TunDevice _tun;
    private readonly UdpPump _pump;
    private readonly RouteNetlink _rtnl;
    private readonly ILogger _log;
    private readonly Dictionary<Ip4Network, UdpPeer> _peers = [];
    private readonly Lock _lock = new();
    private Ip4Network? _address;
    private long _lastDrops;

    internal UdpNetwork(BackendContext context, TunDevice tun, UdpPump pump, RouteNetlink rtnl, LeaseAttrs attrs, int mtu, ushort port)
    {
        _context = context;
        _tun = tun;
        _pump = pump;
        _rtnl = rtnl;
        LeaseAttrs = attrs;
        Mtu = mtu;
        Port = port;
        _log = context.Logs.CreateLogger<UdpNetwork>();
    }

    public LeaseAttrs LeaseAttrs { get; }

    public int Mtu { get; }

    public ushort Port { get; }

    public string DeviceName => _tun.Name;

    public UdpPump Pump => _pump;

    /// <summary>MTU and link up; called once the device exists.</summary>
    internal void SetUpDevice()
    {
        int index = _rtnl.GetLinkIndex(_tun.Name);
        _rtnl.SetLinkMtu(index, Mtu);
        DisableIpv6(_tun.Name);
        _rtnl.SetLinkUp(index);
        UdpLog.DeviceReady(_log, _tun.Name, Mtu, _tun.QueueCount, _tun.Tso, _pump.Gro, Port);
    }

    public Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        var address = new Ip4Network(lease.Key.Subnet.Network.Ip, 32);
        lock (_lock)
        {
            _address = address;
        }
        _pump.TunAddress = address.Ip;
        Reconcile(repairing: false);
        return Task.CompletedTask;
    }

    public Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        lock (_lock)
        {
            foreach (var e in events)
            {
                var subnet = e.Lease.Key.Subnet.Network;
                // flanneld's udp backend routes to every lease, whatever its BackendType (compat §6).
                if (e.Kind == LeaseEventKind.Removed)
                {
                    if (_peers.Remove(subnet))
                    {
                        UdpLog.PeerRemoved(_log, subnet.ToString(), e.Lease.Attrs.PublicIP.ToString());
                    }
                }
                else
                {
                    _peers[subnet] = new UdpPeer(subnet, e.Lease.Attrs.PublicIP);
                    UdpLog.PeerAdded(_log, subnet.ToString(), e.Lease.Attrs.PublicIP.ToString());
                }
            }
            _pump.Peers = new PeerTable(_peers.Values);
            BackendMetrics.ProgrammedPeers("udp", _peers.Count);
        }
        return Task.CompletedTask;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        _pump.Start();
        try
        {
            using var timer = new PeriodicTimer(ReconcileInterval);
            var tick = timer.WaitForNextTickAsync(ct).AsTask();
            while (true)
            {
                _context.Health.Report("backend", ReconcileInterval * 3);
                var done = await Task.WhenAny(tick, _pump.Stopped).ConfigureAwait(false);
                if (done == _pump.Stopped)
                {
                    await _pump.Stopped.ConfigureAwait(false); // a pump thread failed: surface it
                    throw new InvalidOperationException("udp packet pump stopped");
                }
                if (!await tick.ConfigureAwait(false))
                {
                    return;
                }
                LogDropsIfChanged();
                try
                {
                    Reconcile(repairing: true);
                }
                catch (Exception e) when (e is NetlinkException or IOException)
                {
                    UdpLog.ReconcileFailed(_log, e.Message);
                }
                tick = timer.WaitForNextTickAsync(ct).AsTask();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            await _pump.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drop counts go to the log when they moved since the last tick (at most every 10 s, never per packet).</summary>
    private void LogDropsIfChanged()
    {
        var all = _pump.OutboundCounters.Append(_pump.InboundCounters).ToList();
        long total = all.Sum(c => c.TotalDrops);
        if (total == _lastDrops)
        {
            return;
        }
        _lastDrops = total;
        var reasons = Enum.GetValues<DropReason>()
            .Select(r => (Reason: r, Count: all.Sum(c => c.Drops(r))))
            .Where(x => x.Count > 0)
            .Select(x => $"{DropReasonNames.Of(x.Reason)} {x.Count}");
        UdpLog.Traffic(_log, _pump.OutboundCounters.Sum(c => c.Packets), _pump.InboundCounters.Packets, string.Join(", ", reasons));
        // Unknown-peer drops usually mean a peer sends from an address other than its PublicIP: say which and what to do.
        UnknownPeerReport.LogIfAny(_log, _pump.InboundCounters, _pump.Peers);
    }

    /// <summary>
    /// Device address = the lease's network address /32 (flanneld since v0.11.0), no other address, link up, and the
    /// whole Network routed into the device (scope universe, as flanneld installs it).
    /// </summary>
    private void Reconcile(bool repairing)
    {
        Ip4Network? address;
        lock (_lock)
        {
            address = _address;
        }
        if (address is not { } want)
        {
            return;
        }
        int index = _rtnl.GetLinkIndex(_tun.Name);
        bool present = false;
        foreach (var a in _rtnl.ListAddresses(index))
        {
            if (a.Address == want)
            {
                present = true;
            }
            else
            {
                _rtnl.DeleteAddress(index, a.Address);
            }
        }
        if (!present)
        {
            _rtnl.AddAddress(index, want);
        }
        _rtnl.SetLinkUp(index);
        var network = _context.Config.Network;
        var route = new Route(network, null, index, RouteScope.Universe);
        bool routed = _rtnl.ListRoutes().Any(r => r.Destination == network && r.LinkIndex == index && r.Gateway is null && r.Table == RouteTable.Main);
        if (!routed)
        {
            _rtnl.ReplaceRoute(route);
            if (repairing)
            {
                BackendMetrics.Repaired("udp", "route");
            }
            UdpLog.RouteEnsured(_log, route.ToString());
        }
    }

    // The kernel writes IPv6 router solicitations and MLD into a TUN as soon as it is up; nothing in the overlay
    // uses IPv6, so switch it off on the device (the pump would drop them anyway).
    private static void DisableIpv6(string device)
    {
        try
        {
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{device}/disable_ipv6", "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _pump.StopAsync().ConfigureAwait(false);
        _pump.Dispose();
        _tun.Dispose();
        _rtnl.Dispose();
    }
}
