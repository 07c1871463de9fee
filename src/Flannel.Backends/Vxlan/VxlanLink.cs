using System.Net.NetworkInformation;
using Flannel.Backends.Interfaces;
using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;
using Flannel.Subnet;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// One vxlan device with everything on it: <c>flannel.VNI</c> for IPv4, and on a dual-stack network
/// <c>flannel-v6.VNI</c> for IPv6 (flanneld's v6Dev, over the IPv6 underlay, with its own VtepMAC). It owns the entries
/// each peer was given, the DirectRouting decisions and the device's recovery. <see cref="VxlanNetwork"/> holds the
/// leases and the lock: every member expects that lock held.
/// </summary>
internal sealed class VxlanLink
{
    private const int ENOENT = 2, ESRCH = 3;

    private readonly RtnetlinkClient _rtnl;
    private readonly VxlanOptions _options;
    private readonly Action<string> _onCreated;
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    // The entries each programmed peer was given (by the lease's IPv4 subnet, its identity), to take out exactly
    // those when its lease goes or changes; and the DirectRouting decision per PublicIP, taken (and logged) when the
    // lease arrives: the desired state is a pure function of the leases and these.
    private readonly Dictionary<Ip4Network, DesiredPeer> _programmed = [];
    private readonly Dictionary<IpAddress, bool> _direct = [];
    private VxlanInfo _device;
    private long? _missingSince;

    // When rtnetlink reported the device deleted (a timestamp of _time, 0 when not): the recovery's downtime counts
    // from it, not from the reconcile that notices.
    private long _deletedAt;

    public VxlanLink(IpNetwork network, VxlanInfo device, RtnetlinkClient rtnl, VxlanOptions options, int mtu, Action<string> onCreated,
        TimeProvider time, ILogger log)
    {
        Network = network;
        _device = device;
        Mac = device.Mac ?? throw new BackendException($"vxlan backend: {device.Name} has no MAC");
        _rtnl = rtnl;
        _options = options;
        Mtu = mtu;
        _onCreated = onCreated;
        _time = time;
        _log = log;
    }

    /// <summary>The Network or IPv6Network this device carries.</summary>
    public IpNetwork Network { get; }

    public IpFamily Family => Network.Family;

    /// <summary>The VtepMAC: the lease's BackendData (IPv4) or BackendV6Data (IPv6).</summary>
    public PhysicalAddress Mac { get; }

    public string Name => _device.Name;

    /// <summary>The device's index now (read by the event watcher without the lock).</summary>
    public int Index => Volatile.Read(ref _device).Index;

    public int ProgrammedPeers => _programmed.Count;

    /// <summary>The device's MTU (flannel-v6's is smaller: <see cref="VxlanBackend.Ipv6Mtu"/>).</summary>
    public int Mtu { get; }

    public string BackendData => new VxlanBackendData(_options.Vni, Mac).ToJson();

    /// <summary>The kernel reported the device deleted now.</summary>
    public void MarkDeleted() => Interlocked.CompareExchange(ref _deletedAt, _time.GetTimestamp(), 0);

    /// <summary>What this device wants in the kernel (<see cref="VxlanDesiredState"/>).</summary>
    public DesiredState Desired(IEnumerable<Lease> leases, SubnetKey? own) =>
        VxlanDesiredState.For(_options, Network, own?.SubnetOf(Family), leases, ip => _direct.GetValueOrDefault(ip));

    /// <summary>Programs and removes peers for a batch of lease events. Returns the peers programmed and the entries sent.</summary>
    public (int Peers, int Entries) Apply(IReadOnlyList<LeaseEvent> events)
    {
        var toProgram = new Dictionary<Ip4Network, DesiredPeer>();
        var toRemove = new List<DesiredPeer>();
        foreach (var e in events)
        {
            var subnet = e.Lease.Key.Subnet.Network;
            _programmed.TryGetValue(subnet, out var old);
            DesiredPeer? peer = null;
            if (e.Kind != LeaseEventKind.Removed)
            {
                peer = VxlanDesiredState.Peer(e.Lease, Family, IsDirect(e.Lease), out var skipped);
                // Another backend's lease is ignored by both devices: said once, by the IPv4 one.
                if (peer is null && (Family == IpFamily.Ip4 || string.Equals(e.Lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal)))
                {
                    VxlanLog.PeerIgnored(_log, e.Lease.Key.Subnet.ToString(), Family == IpFamily.Ip4 ? skipped! : $"{Name}: {skipped}");
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
        return (toProgram.Count, Program([.. toProgram.Values]));
    }

    // flanneld: direct when the kernel reaches the peer without a gateway, i.e. it is on our L2 network.
    private bool IsDirect(Lease lease)
    {
        if (!_options.DirectRouting || !string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal) ||
            lease.Attrs.PublicIPOf(Family) is not { } publicIp)
        {
            return false;
        }
        bool direct = _rtnl.GetRouteTo(publicIp) is { Gateway: null };
        _direct[publicIp] = direct;
        VxlanLog.DirectRoutingDecision(_log, lease.Key.SubnetOf(Family)!.Value.ToString(), direct
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
    /// Reads the device's entries, finds the drift from the desired state and sends the requests that remove it, in
    /// one batch. The device must be there (<see cref="EnsureDevice"/>).
    /// </summary>
    /// <param name="counted">Count the repairs in the metrics and log them (not for the first set-up).</param>
    public int Repair(IReadOnlyCollection<Lease> leases, SubnetKey? own, bool peersKnown, bool counted)
    {
        int dev = _device.Index;
        _rtnl.SetLinkUp(dev);
        var kernel = new KernelView(dev, _rtnl.ListAddresses(dev, Family), [.. _rtnl.ListRoutes(Family).Where(r => r.Table == RouteTable.Main)],
            _rtnl.ListNeighbours(dev, Family), _rtnl.ListFdb(dev));
        var ownSubnets = new HashSet<IpNetwork>();
        if (own?.SubnetOf(Family) is { } s)
        {
            ownSubnets.Add(s);
        }
        var drift = DriftFinder.Find(Desired(leases, own), kernel, ownSubnets, peersKnown).Drifts;
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
            VxlanLog.Repaired(_log, fixes.Count, $"{Name}: {string.Join(", ", what)}");
        }
        return fixes.Count;
    }

    /// <summary>
    /// Makes sure the device exists as the external interface needs it; creates it again (same MAC) and programs every
    /// peer at once when it had gone. False when it cannot be had now (the parent link is gone too): the next event
    /// or tick tries again.
    /// </summary>
    public bool EnsureDevice(ExternalInterface iface, IReadOnlyCollection<Lease> leases, SubnetKey? own, bool peersKnown)
    {
        var current = _rtnl.GetVxlan(_device.Name);
        if (current is not null && current.Index == _device.Index && VxlanDevice.Matches(current, _options, Family, iface) &&
            Equals(current.Mac, Mac))
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
            : $"{_device.Name} no longer matched the external interface {iface.Name} (#{iface.Index}, {VxlanDevice.LocalOf(iface, Family)}): {current}";
        try
        {
            var created = VxlanDevice.EnsureWithMac(_rtnl, _options, Family, iface, Mtu, Mac, _log);
            Volatile.Write(ref _device, created);
            _onCreated(created.Name);
            // Everything that lived on the old device (address, every peer's entries) is missing now: one batch.
            int peers = _programmed.Count;
            int entries = Repair(leases, own, peersKnown, counted: false);
            double downMs = _time.GetElapsedTime(_missingSince.Value).TotalMilliseconds;
            _missingSince = null;
            BackendMetrics.Recreated("vxlan", created.Name);
            VxlanLog.DeviceRecovered(_log, what, created.Name, VxlanBackendData.FormatMac(Mac), peers, entries, downMs);
            return true;
        }
        catch (Exception e) when (e is NetlinkException or BackendException)
        {
            VxlanLog.DeviceRecoveryFailed(_log, what, e.Message);
            return false;
        }
    }
}
