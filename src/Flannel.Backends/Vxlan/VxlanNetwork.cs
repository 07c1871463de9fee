using System.Diagnostics;
using System.Net.NetworkInformation;
using Flannel.Backends.Host;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// The vxlan backend running for our lease: the device's address, and per peer the neighbour, FDB and route entries,
/// programmed in netlink batches (thousands of peers in one pass), reconciled against the kernel every 10 s and at once
/// when the kernel reports one of them deleted or its event queue overflowed.
/// </summary>
/// <remarks>
/// The device itself is reconciled too: deleted by hand, or by the kernel together with its parent link (a vxlan
/// link dies with its lower device: vxlan_handle_lowerdev_unregister(); flannel #2247), or bound to a parent or local
/// address the external interface no longer has, it is created again with the same VtepMAC, so our lease and every
/// peer's FDB entry stay valid, and every peer's entries go back in one batch.
/// </remarks>
public sealed class VxlanNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);
    private const int ENOENT = 2, ESRCH = 3;

    private readonly BackendContext _context;
    private readonly RouteNetlink _rtnl;
    private readonly VxlanOptions _options;
    private readonly PhysicalAddress _mac;
    private readonly Action<string> _onCreated;
    private readonly TimeProvider _time;
    private VxlanInfo _device;
    private ExternalInterface _iface;
    private long? _missingSince;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<Ip4Network, VxlanPeer> _desired = [];

    // Until the peer watch has handed over its first listing, _desired is not the full set: a reconcile then (the
    // backend loop starts with one, racing the watch after a restart) must not delete the entries of peers it has not
    // heard of yet, or traffic to them stops for the moment between (seen as a lost ping in the SIGKILL test).
    private bool _peersKnown;
    private readonly ReconcileSignal _signal = new();
    private Ip4Network? _address;

    /// <param name="onCreated">Runs for a device created again (vxlan's checksum offload setting).</param>
    internal VxlanNetwork(BackendContext context, RouteNetlink rtnl, VxlanInfo device, VxlanOptions options, int mtu, Action<string> onCreated)
    {
        _context = context;
        _rtnl = rtnl;
        _device = device;
        _options = options;
        _mac = device.Mac ?? throw new BackendException($"vxlan backend: {device.Name} has no MAC");
        _onCreated = onCreated;
        _iface = context.Iface;
        _time = context.Time;
        Mtu = mtu;
        _log = context.Logs.CreateLogger<VxlanNetwork>();
    }

    public LeaseAttrs LeaseAttrs => new(Volatile.Read(ref _iface).PublicIP, BackendType: BackendTypes.Vxlan,
        BackendData: new VxlanBackendData(_options.Vni, _mac).ToJson());

    public int Mtu { get; }

    public string DeviceName => _device.Name;

    public int DeviceIndex => _device.Index;

    public async Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _address = new Ip4Network(lease.Key.Subnet.Network.Ip, 32);
            EnsureAddress();
        }
        finally
        {
            _lock.Release();
        }
    }

    // flanneld's EnsureV4AddressOnLink: our /32, and no other address of the device inside the Network.
    private void EnsureAddress()
    {
        if (_address is not { } want)
        {
            return;
        }
        bool present = false;
        foreach (var a in _rtnl.ListAddresses(_device.Index))
        {
            if (a.Address == want)
            {
                present = true;
            }
            else if (_context.Config.Network.Contains(a.Address.Ip))
            {
                _rtnl.DeleteAddress(_device.Index, a.Address);
            }
        }
        if (!present)
        {
            _rtnl.AddAddress(_device.Index, want);
        }
        _rtnl.SetLinkUp(_device.Index);
    }

    public async Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _peersKnown = true;
            var started = Stopwatch.GetTimestamp();
            var toProgram = new List<VxlanPeer>();
            var toRemove = new List<VxlanPeer>();
            foreach (var e in events)
            {
                var subnet = e.Lease.Key.Subnet.Network;
                _desired.TryGetValue(subnet, out var old);
                if (e.Kind == LeaseEventKind.Removed)
                {
                    if (old is not null)
                    {
                        _desired.Remove(subnet);
                        toRemove.Add(old);
                        toProgram.RemoveAll(p => p.Subnet == subnet);
                    }
                    continue;
                }
                var peer = Plan(e.Lease);
                if (peer is null)
                {
                    continue;
                }
                if (old is not null && old != peer)
                {
                    toRemove.Add(old); // another MAC or PublicIP: the old FDB entry would linger
                }
                _desired[subnet] = peer;
                toProgram.RemoveAll(p => p.Subnet == subnet);
                toProgram.Add(peer);
            }
            Remove(toRemove);
            int entries = Program(toProgram);
            BackendMetrics.ProgrammedPeers("vxlan", _desired.Count);
            if (toProgram.Count > 1)
            {
                VxlanLog.Programmed(_log, toProgram.Count, entries, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The kernel entries for a peer lease, or null (logged) when it cannot be a vxlan peer of ours.</summary>
    private VxlanPeer? Plan(Lease lease)
    {
        string subnet = lease.Key.Subnet.ToString();
        if (!string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal))
        {
            VxlanLog.PeerIgnored(_log, subnet, $"backend type {lease.Attrs.BackendType ?? "udp"}, not vxlan");
            return null;
        }
        if (VxlanBackendData.TryParse(lease.Attrs.BackendData) is not { } data)
        {
            VxlanLog.PeerIgnored(_log, subnet, $"BackendData without a valid VtepMAC: {lease.Attrs.BackendData}");
            return null;
        }
        bool direct = false;
        if (_options.DirectRouting)
        {
            // flanneld: direct when the kernel reaches the peer without a gateway, i.e. it is on our L2 network.
            var route = _rtnl.GetRouteTo(lease.Attrs.PublicIP);
            direct = route is { Gateway: null };
            VxlanLog.DirectRoutingDecision(_log, subnet, direct
                ? $"{lease.Attrs.PublicIP} is on our L2 network: route via it, no encapsulation"
                : $"{lease.Attrs.PublicIP} is reached via a gateway: vxlan");
        }
        return new VxlanPeer(lease.Key.Subnet.Network, lease.Attrs.PublicIP, data.VtepMac, direct);
    }

    /// <summary>Programs peers in one netlink batch; a peer with any failed entry is rolled back. Returns entries sent.</summary>
    private int Program(List<VxlanPeer> peers)
    {
        if (peers.Count == 0)
        {
            return 0;
        }
        var requests = new List<NetlinkRequest>();
        var ranges = new List<(VxlanPeer Peer, int Start, int Count)>();
        foreach (var p in peers)
        {
            int start = requests.Count;
            requests.AddRange(p.Program(_device.Index));
            ranges.Add((p, start, requests.Count - start));
        }
        var results = _rtnl.Batch(requests);
        var rollback = new List<NetlinkRequest>();
        foreach (var (peer, start, count) in ranges)
        {
            var failure = Enumerable.Range(start, count).Select(i => results[i]).FirstOrDefault(r => r is not null);
            if (failure is null)
            {
                VxlanLog.PeerAdded(_log, peer.Subnet.ToString(), peer.PublicIP.ToString(), peer.How);
                continue;
            }
            VxlanLog.PeerFailed(_log, peer.Subnet.ToString(), failure.Message);
            var undo = peer.Unprogram(_device.Index).Reverse().ToList(); // same order as Program
            rollback.AddRange(Enumerable.Range(0, count).Where(i => results[start + i] is null).Select(i => undo[i]));
        }
        if (rollback.Count > 0)
        {
            _rtnl.Batch(rollback);
        }
        return requests.Count;
    }

    private void Remove(List<VxlanPeer> peers)
    {
        if (peers.Count == 0)
        {
            return;
        }
        var requests = peers.SelectMany(p => p.Unprogram(_device.Index)).ToList();
        var results = _rtnl.Batch(requests);
        foreach (var (r, i) in results.Select((r, i) => (r, i)))
        {
            if (r is not null && r.Errno is not (ENOENT or ESRCH))
            {
                VxlanLog.ReconcileFailed(_log, $"removing {requests[i]}: {r.Message}");
            }
        }
        foreach (var p in peers)
        {
            VxlanLog.PeerRemoved(_log, p.Subnet.ToString(), p.PublicIP.ToString());
        }
    }

    /// <summary>
    /// Makes the kernel match the leases: missing or different entries are replaced, entries on our device for peers
    /// that are gone are deleted. Idempotent; returns how many requests it had to send.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!EnsureDevice())
            {
                return 0;
            }
            EnsureAddress();
            int dev = _device.Index;
            var network = _context.Config.Network;
            var neighbours = _rtnl.ListNeighbours(dev);
            var fdb = _rtnl.ListFdb(dev);
            var routes = _rtnl.ListRoutes().Where(r => r.Table == RouteTable.Main).ToList();
            var fixes = new List<NetlinkRequest>();
            var what = new HashSet<string>(StringComparer.Ordinal);
            // Sets, not scans: with thousands of peers an O(n^2) pass would hold the lock for a noticeable time.
            var haveNeighbours = neighbours.Where(n => (n.State & Neighbour.NudPermanent) != 0 && n.Mac is not null)
                .Select(n => (n.Address, Mac: n.Mac!.ToString())).ToHashSet();
            var haveFdb = fdb.Where(f => f.Destination is not null).Select(f => (Mac: f.Mac.ToString(), f.Destination!.Value)).ToHashSet();
            var haveRoutes = routes.Where(r => r.Gateway is not null)
                .Select(r => (r.Destination, r.Gateway!.Value, r.LinkIndex)).ToHashSet();
            var haveDirect = routes.Where(r => r.Gateway is not null).Select(r => (r.Destination, r.Gateway!.Value)).ToHashSet();
            foreach (var p in _desired.Values)
            {
                string mac = p.Mac.ToString();
                if (!p.Direct)
                {
                    if (!haveNeighbours.Contains((p.Subnet.Ip, mac)))
                    {
                        fixes.Add(NetlinkRequest.ReplaceNeighbour(dev, p.Subnet.Ip, p.Mac));
                        what.Add("neighbour");
                    }
                    if (!haveFdb.Contains((mac, p.PublicIP)))
                    {
                        fixes.Add(NetlinkRequest.ReplaceFdb(dev, p.Mac, p.PublicIP));
                        what.Add("fdb");
                    }
                }
                bool routed = p.Direct ? haveDirect.Contains((p.Subnet, p.PublicIP)) : haveRoutes.Contains((p.Subnet, p.Subnet.Ip, dev));
                if (!routed)
                {
                    fixes.Add(NetlinkRequest.ReplaceRoute(p.RouteOn(dev)));
                    what.Add("route");
                }
            }
            var wantedNeighbours = _desired.Values.Where(p => !p.Direct).Select(p => p.Subnet.Ip).ToHashSet();
            foreach (var n in neighbours.Where(n => _peersKnown && network.Contains(n.Address) && !wantedNeighbours.Contains(n.Address)))
            {
                fixes.Add(NetlinkRequest.DeleteNeighbour(dev, n.Address));
                what.Add("stale neighbour");
            }
            var wantedFdb = _desired.Values.Where(p => !p.Direct).Select(p => (Mac: p.Mac.ToString(), p.PublicIP)).ToHashSet();
            // bridge(8)'s `fdb add ... permanent` stores NUD_PERMANENT|NUD_NOARP (0xc0): test the bit, not the value.
            foreach (var f in fdb.Where(f => _peersKnown && f.Destination is not null && (f.State & Neighbour.NudPermanent) != 0 &&
                                             !wantedFdb.Contains((f.Mac.ToString(), f.Destination!.Value))))
            {
                fixes.Add(NetlinkRequest.DeleteFdb(dev, f.Mac, f.Destination!.Value));
                what.Add("stale fdb");
            }
            var wantedRoutes = _desired.Values.Where(p => !p.Direct).Select(p => p.Subnet).ToHashSet();
            foreach (var r in routes.Where(r => _peersKnown && r.LinkIndex == dev && r.Gateway is not null && network.Contains(r.Destination) &&
                                                !(wantedRoutes.Contains(r.Destination) && r.Gateway == r.Destination.Ip)))
            {
                fixes.Add(NetlinkRequest.DeleteRoute(r));
                what.Add("stale route");
            }
            if (fixes.Count > 0)
            {
                foreach (var kind in what)
                {
                    BackendMetrics.Repaired("vxlan", kind.Replace(' ', '_'));
                }
                var results = _rtnl.Batch(fixes);
                foreach (var failure in results.Where(r => r is not null && r.Errno is not (ENOENT or ESRCH)))
                {
                    VxlanLog.ReconcileFailed(_log, failure!.Message);
                }
                VxlanLog.Repaired(_log, fixes.Count, string.Join(", ", what));
            }
            _context.Health.Report("backend", ReconcileInterval * 3);
            return fixes.Count;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var watch = WatchAsync(ct);
        using var timer = new PeriodicTimer(ReconcileInterval);
        try
        {
            var tick = timer.WaitForNextTickAsync(ct).AsTask();
            var kick = _signal.WaitAsync(ct);
            while (true)
            {
                try
                {
                    await ReconcileAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NetlinkException or IOException)
                {
                    VxlanLog.ReconcileFailed(_log, e.Message);
                }
                var done = await Task.WhenAny(tick, kick).ConfigureAwait(false);
                if (done == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        break;
                    }
                    tick = timer.WaitForNextTickAsync(ct).AsTask();
                }
                else
                {
                    await kick.ConfigureAwait(false);
                    _signal.Consume();
                    kick = _signal.WaitAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await watch.ConfigureAwait(false);
    }

    // An entry of ours deleted by someone else, our device deleted or set down (or lost events) triggers a reconcile
    // at once. The time of a deletion is when traffic stopped: the recovery's log line counts from it.
    private async Task WatchAsync(CancellationToken ct)
    {
        try
        {
            using var watcher = NetlinkWatcher.Open(NetlinkGroups.Neighbours | NetlinkGroups.Ipv4Routes | NetlinkGroups.Links);
            await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
            {
                int dev = Volatile.Read(ref _device).Index;
                bool ours = e switch
                {
                    NeighbourEvent { Deleted: true } n => n.LinkIndex == dev,
                    RouteEvent { Deleted: true } r => _context.Config.Network.Contains(r.Route.Destination),
                    LinkEvent l => l.Link.Index == dev && (l.Deleted || !l.Link.IsUp || l.Link.Mtu != Mtu),
                    EventsLost => true,
                    _ => false,
                };
                if (e is LinkEvent { Deleted: true } gone && gone.Link.Index == dev)
                {
                    Interlocked.CompareExchange(ref _deletedAt, _time.GetTimestamp(), 0);
                }
                if (ours)
                {
                    _signal.Raise();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private long _deletedAt;

    public async Task ExternalInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct)
    {
        Volatile.Write(ref _iface, iface);
        await ReconcileAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes sure our device exists as the external interface needs it; creates it again (same MAC) and programs every
    /// peer at once when it had gone. False when it cannot be had now (the parent link is gone too): the next event
    /// or tick tries again. Caller holds the lock.
    /// </summary>
    private bool EnsureDevice()
    {
        var iface = Volatile.Read(ref _iface);
        var current = _rtnl.GetVxlan(_device.Name);
        if (current is not null && current.Index == _device.Index && VxlanDevice.Matches(current, _options, iface) && Equals(current.Mac, _mac))
        {
            if (current.Mtu != Mtu)
            {
                _rtnl.SetLinkMtu(current.Index, Mtu);
                BackendMetrics.Repaired("vxlan", "mtu");
            }
            _device = current;
            return true;
        }
        long since = Interlocked.Exchange(ref _deletedAt, 0) is var t and not 0 ? t : _missingSince ?? _time.GetTimestamp();
        _missingSince ??= since;
        string what = current is null ? $"{_device.Name} was gone"
            : current.Index != _device.Index ? $"{_device.Name} had been replaced by another device ({current})"
            : $"{_device.Name} no longer matched the external interface {iface.Name} (#{iface.Index}, {iface.Address}): {current}";
        try
        {
            var created = VxlanDevice.EnsureWithMac(_rtnl, _options, iface, Mtu, _mac, _log);
            Volatile.Write(ref _device, created);
            _onCreated(created.Name);
            EnsureAddress();
            var peers = _desired.Values.ToList();
            int entries = Program(peers);
            double downMs = _time.GetElapsedTime(_missingSince.Value).TotalMilliseconds;
            _missingSince = null;
            BackendMetrics.Recreated("vxlan", created.Name);
            VxlanLog.DeviceRecovered(_log, what, created.Name, VxlanBackendData.FormatMac(_mac), peers.Count, entries, downMs);
            return true;
        }
        catch (Exception e) when (e is NetlinkException or BackendException)
        {
            VxlanLog.DeviceRecoveryFailed(_log, what, e.Message);
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        // The device and its entries stay in the kernel (as flanneld leaves them): a restart finds them in place.
        _rtnl.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
