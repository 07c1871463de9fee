using System.Diagnostics;
using System.Net.NetworkInformation;
using Flannel.Backends.Interfaces;
using Flannel.Backends.KernelState;
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
public sealed partial class VxlanNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);
    private const int ENOENT = 2, ESRCH = 3;

    private readonly BackendContext _context;
    private readonly RtnetlinkClient _rtnl;
    private readonly VxlanOptions _options;
    private readonly PhysicalAddress _mac;
    private readonly Action<string> _onCreated;
    private readonly TimeProvider _time;
    private VxlanInfo _device;
    private ExternalInterface _iface;
    private long? _missingSince;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _lock = new(1, 1);
    // Every peer lease we have heard of (the input of the desired state), and the DirectRouting decision for each
    // PublicIP, taken (and logged) when its lease arrives: the desired state is a pure function of these.
    private readonly Dictionary<Ip4Network, Lease> _leases = [];
    private readonly Dictionary<Ip4Address, bool> _direct = [];

    // The entries each programmed peer was given, to take out exactly those when its lease goes or changes.
    private readonly Dictionary<Ip4Network, DesiredPeer> _programmed = [];

    // Until the peer watch has handed over its first listing, the leases are not the full set: a reconcile then (the
    // backend loop starts with one, racing the watch after a restart) must not delete the entries of peers it has not
    // heard of yet, or traffic to them stops for the moment between (seen as a lost ping in the SIGKILL test).
    private bool _peersKnown;
    private readonly ReconcileSignal _signal = new();
    private Ip4Network? _ownSubnet;

    /// <param name="onCreated">Runs for a device created again (vxlan's checksum offload setting).</param>
    internal VxlanNetwork(BackendContext context, RtnetlinkClient rtnl, VxlanInfo device, VxlanOptions options, int mtu, Action<string> onCreated)
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

    public LeaseAttrs LeaseAttrs => new(Volatile.Read(ref _iface).PublicIP, PublicIPv6: Volatile.Read(ref _iface).PublicIPv6, BackendType: BackendTypes.Vxlan,
        BackendData: new VxlanBackendData(_options.Vni, _mac).ToJson());

    public int Mtu { get; }

    public string DeviceName => _device.Name;

    public int DeviceIndex => _device.Index;

    public async Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _ownSubnet = lease.Key.Subnet.Network;
            Repair(counted: false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>What this backend wants in the kernel now (<see cref="VxlanDesiredState"/>). Caller holds the lock.</summary>
    private DesiredState Desired() =>
        VxlanDesiredState.For(_options, _context.Config.Network, _ownSubnet, _leases.Values, ip => _direct.GetValueOrDefault(ip));

    public async Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _peersKnown = true;
            var started = Stopwatch.GetTimestamp();
            var toProgram = new Dictionary<Ip4Network, DesiredPeer>();
            var toRemove = new List<DesiredPeer>();
            foreach (var e in events)
            {
                var subnet = e.Lease.Key.Subnet.Network;
                _programmed.TryGetValue(subnet, out var old);
                DesiredPeer? peer = null;
                if (e.Kind == LeaseEventKind.Removed)
                {
                    _leases.Remove(subnet);
                }
                else
                {
                    _leases[subnet] = e.Lease;
                    peer = VxlanDesiredState.Peer(e.Lease, IsDirect(e.Lease), out var skipped);
                    if (peer is null)
                    {
                        VxlanLog.PeerIgnored(_log, e.Lease.Key.Subnet.ToString(), skipped!);
                    }
                }
                if (old is not null && (peer is null || !old.SameEntries(peer)))
                {
                    // Gone, ignored now, or another MAC or PublicIP: the old entries would linger.
                    _programmed.Remove(subnet);
                    if (!toProgram.Remove(subnet))
                    {
                        toRemove.Add(old);
                    }
                }
                if (peer is not null)
                {
                    _programmed[subnet] = peer;
                    toProgram[subnet] = peer;
                }
            }
            Remove(toRemove);
            int entries = Program([.. toProgram.Values]);
            BackendMetrics.ProgrammedPeers("vxlan", _programmed.Count);
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

    // flanneld: direct when the kernel reaches the peer without a gateway, i.e. it is on our L2 network.
    private bool IsDirect(Lease lease)
    {
        if (!_options.DirectRouting || !string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal))
        {
            return false;
        }
        var publicIp = lease.Attrs.PublicIP;
        bool direct = _rtnl.GetRouteTo(publicIp) is { Gateway: null };
        _direct[publicIp] = direct;
        VxlanLog.DirectRoutingDecision(_log, lease.Key.Subnet.ToString(), direct
            ? $"{publicIp} is on our L2 network: route via it, no encapsulation"
            : $"{publicIp} is reached via a gateway: vxlan");
        return direct;
    }

    /// <summary>Programs peers in one netlink batch; a peer with any failed entry is rolled back. Returns entries sent.</summary>
    private int Program(IReadOnlyList<DesiredPeer> peers)
    {
        if (peers.Count == 0)
        {
            return 0;
        }
        int dev = _device.Index;
        var requests = new List<NetlinkRequest>();
        var ranges = new List<(DesiredPeer Peer, int Start, int Count)>();
        foreach (var p in peers)
        {
            int start = requests.Count;
            requests.AddRange(DriftRepair.Program(p, dev));
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
            var undo = DriftRepair.Unprogram(peer, dev).Reverse().ToList(); // same order as Program
            rollback.AddRange(Enumerable.Range(0, count).Where(i => results[start + i] is null).Select(i => undo[i]));
        }
        if (rollback.Count > 0)
        {
            _rtnl.Batch(rollback);
        }
        return requests.Count;
    }

    private void Remove(List<DesiredPeer> peers)
    {
        if (peers.Count == 0)
        {
            return;
        }
        var requests = peers.SelectMany(p => DriftRepair.Unprogram(p, _device.Index)).ToList();
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
    /// Makes the kernel match the leases: missing or different entries are replaced, entries of ours for peers that
    /// are gone are deleted (the drift <c>flanneld status</c> reports). Idempotent; returns how many requests it sent.
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
            int fixes = Repair(counted: true);
            _context.Health.Report("backend", ReconcileInterval * 3);
            return fixes;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Reads the device's entries, finds the drift from the desired state and sends the requests that remove it, in
    /// one batch. Caller holds the lock and has made sure of the device.
    /// </summary>
    /// <param name="counted">Count the repairs in the metrics and log them (not for the first set-up).</param>
    private int Repair(bool counted)
    {
        int dev = _device.Index;
        _rtnl.SetLinkUp(dev);
        var kernel = new KernelView(dev, _rtnl.ListAddresses(dev), [.. _rtnl.ListRoutes().Where(r => r.Table == RouteTable.Main)],
            _rtnl.ListNeighbours(dev), _rtnl.ListFdb(dev));
        IReadOnlySet<Ip4Network> own = _ownSubnet is { } s ? new HashSet<Ip4Network> { s } : new HashSet<Ip4Network>();
        var drift = DriftFinder.Find(Desired(), kernel, own, _peersKnown).Drifts;
        var fixes = new List<NetlinkRequest>();
        var what = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in drift)
        {
            if (DriftRepair.Request(d, dev) is { } request)
            {
                fixes.Add(request);
                what.Add(DriftRepair.What(d));
            }
        }
        if (fixes.Count == 0)
        {
            return 0;
        }
        var results = _rtnl.Batch(fixes);
        foreach (var failure in results.Where(r => r is not null && r.Errno is not (ENOENT or ESRCH)))
        {
            VxlanLog.ReconcileFailed(_log, failure!.Message);
        }
        if (counted)
        {
            foreach (var kind in what)
            {
                BackendMetrics.Repaired("vxlan", kind.Replace(' ', '_'));
            }
            VxlanLog.Repaired(_log, fixes.Count, string.Join(", ", what));
        }
        return fixes.Count;
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

    public ValueTask DisposeAsync()
    {
        // The device and its entries stay in the kernel (as flanneld leaves them): a restart finds them in place.
        _rtnl.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
