using Flannel.Backends.Interfaces;
using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Backends.Tun;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Udp;

/// <summary>
/// The udp backend running for our lease: keeps flannel0's MTU, address and Network route right, turns lease events
/// into a new peer table for the pump, and runs the pump until cancelled. Self-healing: the device and what is bound
/// to the external interface come back by themselves.
/// </summary>
/// <remarks>
/// What brings things back: rtnetlink events (our device or its address or route deleted, the link set down) raise
/// a reconcile at once, with a 10 s timer as the fallback; a pump run that ends because the TUN is gone (the threads
/// see POLLERR/EBADFD, never spin) makes the loop open the device again with the same name, settings, address, MTU
/// and route, and start the same pump over it: the peer table and counters stay. A new address of the external
/// interface gets a new socket bound to it.
/// </remarks>
public sealed partial class UdpNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);
    private const int ENOENT = 2, ESRCH = 3;

    private readonly BackendContext _context;
    private readonly UdpPump _pump;
    private readonly RtnetlinkClient _rtnl;
    private readonly Func<string, TunDevice> _openTun;
    private readonly ILogger _log;
    private readonly Dictionary<Ip4Network, UdpPeer> _peers = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _kernel = new(1, 1);
    private readonly ReconcileSignal _signal = new();
    private readonly TimeProvider _time;
    private TunDevice? _tun;
    private SafeFdHandle _socket;
    private Ip4Address _boundAddress;
    private ExternalInterface _iface;
    private int _deviceIndex;
    private Ip4Network? _address;
    private Ip4Network _ownSubnet;
    private long _lastDrops;

    internal UdpNetwork(BackendContext context, TunDevice tun, UdpPump pump, SafeFdHandle socket, RtnetlinkClient rtnl, int mtu, ushort port,
        bool gro, Func<string, TunDevice> openTun)
    {
        _context = context;
        _tun = tun;
        _pump = pump;
        _socket = socket;
        _rtnl = rtnl;
        _openTun = openTun;
        _iface = context.Iface;
        _boundAddress = context.Iface.Address;
        _time = context.Time;
        Mtu = mtu;
        Port = port;
        Gro = gro;
        DeviceName = tun.Name;
        _log = context.Logs.CreateLogger<UdpNetwork>();
    }

    // flanneld's udp lease carries the PublicIP only: no BackendType, no BackendData (compat §1.2).
    public LeaseAttrs LeaseAttrs => new(Volatile.Read(ref _iface).PublicIP);

    public int Mtu { get; }

    public ushort Port { get; }

    public bool Gro { get; private set; }

    /// <summary>The TUN device's name (flannel0), the same for every device opened again.</summary>
    public string DeviceName { get; }

    public UdpPump Pump => _pump;

    /// <summary>MTU and link up; called whenever the device is (re)created.</summary>
    internal void SetUpDevice()
    {
        int index = _rtnl.GetLinkIndex(DeviceName);
        Volatile.Write(ref _deviceIndex, index);
        _rtnl.SetLinkMtu(index, Mtu);
        DisableIpv6(DeviceName);
        _rtnl.SetLinkUp(index);
        UdpLog.DeviceReady(_log, DeviceName, Mtu, _tun!.QueueCount, _tun.Tso, Gro, Port);
    }

    public async Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        var address = new Ip4Network(lease.Key.Subnet.Network.Ip, 32);
        lock (_lock)
        {
            _address = address;
            _ownSubnet = lease.Key.Subnet.Network;
        }
        _pump.TunAddress = address.Ip;
        await _kernel.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Reconcile(repairing: false);
        }
        finally
        {
            _kernel.Release();
        }
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
            _pump.Peers = new PeerTable(_peers.Values, _context.UdpSourceCheck);
            BackendMetrics.ProgrammedPeers("udp", _peers.Count);
        }
        return Task.CompletedTask;
    }

    public Task ExternalInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct)
    {
        Volatile.Write(ref _iface, iface);
        _signal.Raise(); // the loop rebinds the socket when the address changed, and reconciles
        return Task.CompletedTask;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var watch = WatchAsync(ct);
        Task<PumpExit>? run = _pump.Start(_tun!, _socket);
        long? downSince = null;
        string? downWhat = null;
        try
        {
            using var timer = new PeriodicTimer(ReconcileInterval, _time);
            var tick = timer.WaitForNextTickAsync(ct).AsTask();
            var signal = _signal.WaitAsync(ct);
            while (true)
            {
                _context.Health.Report("backend", ReconcileInterval * 3);
                var done = run is null ? await Task.WhenAny(tick, signal).ConfigureAwait(false)
                    : await Task.WhenAny(tick, signal, run).ConfigureAwait(false);
                if (done == run)
                {
                    var exit = await run.ConfigureAwait(false); // a pump thread that threw: surfaced, the daemon exits
                    run = null;
                    if (ct.IsCancellationRequested)
                    {
                        return;
                    }
                    downSince ??= _time.GetTimestamp();
                    downWhat ??= exit switch
                    {
                        PumpExit.TunGone => $"{DeviceName} was gone ({_pump.ExitDetail})",
                        PumpExit.SocketFailed => $"the UDP socket failed ({_pump.ExitDetail})",
                        _ => $"the external interface's address changed to {Volatile.Read(ref _iface).Address}",
                    };
                    if (exit == PumpExit.TunGone)
                    {
                        _tun?.Dispose();
                        _tun = null;
                    }
                    if (exit == PumpExit.SocketFailed)
                    {
                        _boundAddress = default; // forces a new socket below
                    }
                }
                else if (done == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        return;
                    }
                    tick = timer.WaitForNextTickAsync(ct).AsTask();
                    LogDropsIfChanged();
                }
                else
                {
                    await signal.ConfigureAwait(false);
                    _signal.Consume();
                    signal = _signal.WaitAsync(ct);
                }

                // A new address of the external interface: the pump stops, the next pass binds a new socket.
                if (run is not null && Volatile.Read(ref _iface).Address != _boundAddress)
                {
                    await _pump.StopAsync().ConfigureAwait(false);
                    continue;
                }
                if (run is null)
                {
                    run = TryRestart(downSince, downWhat);
                    if (run is not null)
                    {
                        downSince = null;
                        downWhat = null;
                    }
                    continue;
                }
                await ReconcileLoggedAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            await _pump.StopAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Builds what the last run lost (the TUN device, the socket) and starts the pump again; null when that failed
    /// (logged; the next event or tick tries again, and nothing runs meanwhile: no CPU is spent while it is absent).
    /// </summary>
    private Task<PumpExit>? TryRestart(long? downSince, string? what)
    {
        string rebuilt = "";
        try
        {
            var iface = Volatile.Read(ref _iface);
            if (iface.Address != _boundAddress)
            {
                var socket = UdpSocket.Open(iface.Address, Port, out bool gro);
                _socket.Dispose();
                _socket = socket;
                _boundAddress = iface.Address;
                Gro = gro;
                rebuilt = $"the UDP socket on {iface.Address}:{Port}";
                BackendMetrics.Recreated("udp", "socket");
            }
            if (_tun is null)
            {
                var tun = _openTun(DeviceName);
                if (tun.QueueCount != _pump.QueueCount || tun.VnetHeader != _pump.VnetHeader)
                {
                    tun.Dispose();
                    throw new BackendException($"{DeviceName} opened with other settings ({tun.QueueCount} queues, vnet header {tun.VnetHeader})");
                }
                _tun = tun;
                _kernel.Wait();
                try
                {
                    SetUpDevice();
                    Reconcile(repairing: false);
                }
                finally
                {
                    _kernel.Release();
                }
                rebuilt = rebuilt.Length == 0 ? $"{DeviceName} with MTU {Mtu}, its address and route" : $"{rebuilt} and {DeviceName}";
                BackendMetrics.Recreated("udp", DeviceName);
            }
            var run = _pump.Start(_tun, _socket);
            double downMs = downSince is { } t ? _time.GetElapsedTime(t).TotalMilliseconds : 0;
            UdpLog.Recovered(_log, what ?? "the pump stopped", rebuilt.Length == 0 ? "nothing" : rebuilt, downMs);
            return run;
        }
        catch (Exception e) when (e is LinuxException or NetlinkException or BackendException or IOException)
        {
            UdpLog.RecoveryFailed(_log, what ?? "the pump stopped", e.Message);
            return null;
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

    public async ValueTask DisposeAsync()
    {
        await _pump.StopAsync().ConfigureAwait(false);
        _pump.Dispose();
        _tun?.Dispose();
        _socket.Dispose();
        _rtnl.Dispose();
        _kernel.Dispose();
    }
}
