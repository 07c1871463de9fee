using System.Diagnostics;
using Flannel.Backends.Interfaces;
using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;
using Flannel.Subnet;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// The vxlan backend running for our lease: per device (<see cref="VxlanLink"/>: flannel.VNI, and flannel-v6.VNI on a
/// dual-stack network) the device's address, and per peer the neighbour, FDB and route entries, programmed in netlink
/// batches (thousands of peers in one pass), reconciled against the kernel every 10 s and at once when the kernel
/// reports one of them deleted or its event queue overflowed.
/// </summary>
/// <remarks>
/// The devices themselves are reconciled too: deleted by hand, or by the kernel together with their parent link (a
/// vxlan link dies with its lower device: vxlan_handle_lowerdev_unregister(); flannel #2247), or bound to a parent or
/// local address the external interface no longer has, they are created again with the same VtepMAC, so our lease and
/// every peer's FDB entry stay valid, and every peer's entries go back in one batch.
/// </remarks>
public sealed partial class VxlanNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);

    private readonly BackendContext _context;
    private readonly RtnetlinkClient _rtnl;
    private readonly VxlanOptions _options;
    private readonly IReadOnlyList<VxlanLink> _links;
    private ExternalInterface _iface;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _lock = new(1, 1);

    // Every peer lease we have heard of: the input of each device's desired state.
    private readonly Dictionary<Ip4Network, Lease> _leases = [];

    // Until the peer watch has handed over its first listing, the leases are not the full set: a reconcile then (the
    // backend loop starts with one, racing the watch after a restart) must not delete the entries of peers it has not
    // heard of yet, or traffic to them stops for the moment between (seen as a lost ping in the SIGKILL test).
    private bool _peersKnown;
    private readonly ReconcileSignal _signal = new();
    private SubnetKey? _ownSubnet;

    /// <param name="devices">flannel.VNI, and flannel-v6.VNI when the network is dual-stack.</param>
    /// <param name="mtu">flannel.VNI's MTU, the network's (flannel-v6.VNI's is <see cref="VxlanBackend.Ipv6Mtu"/>).</param>
    /// <param name="onCreated">Runs for a device created again (vxlan's checksum offload setting).</param>
    internal VxlanNetwork(BackendContext context, RtnetlinkClient rtnl, IReadOnlyList<VxlanInfo> devices, VxlanOptions options, int mtu,
        Action<string> onCreated)
    {
        _context = context;
        _rtnl = rtnl;
        _options = options;
        _iface = context.Iface;
        Mtu = mtu;
        _log = context.Logs.CreateLogger<VxlanNetwork>();
        var families = context.Config.Families;
        if (devices.Count != families.Count)
        {
            throw new ArgumentException($"{families.Count} families need as many devices, not {devices.Count}", nameof(devices));
        }
        _links = [.. families.Select((f, i) =>
            new VxlanLink(context.Config.NetworkOf(f), devices[i], rtnl, options, f == IpFamily.Ip6 ? VxlanBackend.Ipv6Mtu(mtu, _iface.Mtu) : mtu,
                onCreated, context.Time, _log))];
    }

    public LeaseAttrs LeaseAttrs
    {
        get
        {
            var iface = Volatile.Read(ref _iface);
            var v6 = _links.FirstOrDefault(l => l.Family == IpFamily.Ip6);
            return new LeaseAttrs(iface.PublicIP, PublicIPv6: v6 is null ? null : iface.PublicIPv6, BackendType: BackendTypes.Vxlan,
                BackendData: _links[0].BackendData, BackendV6Data: v6?.BackendData);
        }
    }

    public int Mtu { get; }

    /// <summary>flannel.VNI's name.</summary>
    public string DeviceName => _links[0].Name;

    /// <summary>flannel.VNI's index.</summary>
    public int DeviceIndex => _links[0].Index;

    public async Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _ownSubnet = lease.Key;
            foreach (var link in _links)
            {
                link.Repair(_leases.Values, _ownSubnet, _peersKnown, counted: false);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _peersKnown = true;
            var started = Stopwatch.GetTimestamp();
            foreach (var e in events)
            {
                if (e.Kind == LeaseEventKind.Removed)
                {
                    _leases.Remove(e.Lease.Key.Subnet.Network);
                }
                else
                {
                    _leases[e.Lease.Key.Subnet.Network] = e.Lease;
                }
            }
            int peers = 0, entries = 0;
            foreach (var link in _links)
            {
                var (p, n) = link.Apply(events);
                peers = Math.Max(peers, p);
                entries += n;
            }
            BackendMetrics.ProgrammedPeers("vxlan", _links[0].ProgrammedPeers);
            if (peers > 1)
            {
                VxlanLog.Programmed(_log, peers, entries, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Makes the kernel match the leases: missing or different entries are replaced, entries of ours for peers that
    /// are gone are deleted (the drift <c>flanneld status</c> reports), on every device. Idempotent; returns how many
    /// requests it sent.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var iface = Volatile.Read(ref _iface);
            int fixes = 0;
            bool all = true;
            foreach (var link in _links)
            {
                if (link.EnsureDevice(iface, _leases.Values, _ownSubnet, _peersKnown))
                {
                    fixes += link.Repair(_leases.Values, _ownSubnet, _peersKnown, counted: true);
                }
                else
                {
                    all = false;
                }
            }
            if (all)
            {
                _context.Health.Report("backend", ReconcileInterval * 3);
            }
            return fixes;
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

    public ValueTask DisposeAsync()
    {
        // The devices and their entries stay in the kernel (as flanneld leaves them): a restart finds them in place.
        _rtnl.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
