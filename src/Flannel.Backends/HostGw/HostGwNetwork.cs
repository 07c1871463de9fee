using Flannel.Backends.Interfaces;
using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.HostGw;

/// <summary>
/// host-gw running for our lease (flannel's <c>RouteNetwork</c>): one route per peer and family, as
/// <see cref="HostGwDesiredState"/> derives it from the peer leases and the external interface. Programmed on every
/// lease event; the drift from the desired state (<see cref="DriftFinder"/>, what <c>flanneld status</c> prints) is
/// repaired on every route deletion the kernel reports, when the external interface comes back (the kernel drops the
/// routes via a link that goes down without a word: fib_disable_ip() sends no RTM_DELROUTE), and every 10 s
/// (flanneld's route check loop).
/// </summary>
internal sealed class HostGwNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);
    private const string Backend = BackendTypes.HostGw;

    private readonly IRouteTable _table;
    private readonly ILoopHealth _health;
    private readonly ILogger _log;
    private readonly NetworkConfig _config;
    private readonly Dictionary<Ip4Network, Lease> _leases = [];
    // Keyed by the peer's subnet of the entry's family: a route deletion the kernel reports names it by destination.
    private readonly Dictionary<IpNetwork, DesiredPeer> _programmed = [];
    private ExternalInterface _iface;
    private SubnetKey? _ownSubnet;

    // As vxlan's: until the first listing, a route nobody asks for may be a peer's we have not heard of yet.
    private bool _peersKnown;
    private readonly SemaphoreSlim _lock = new(1, 1);

    internal HostGwNetwork(BackendContext context, IRouteTable table)
    {
        _table = table;
        _iface = context.Iface;
        _config = context.Config;
        Mtu = context.Iface.Mtu;
        _health = context.Health;
        _log = context.Logs.CreateLogger<HostGwNetwork>();
    }

    public LeaseAttrs LeaseAttrs => new(Volatile.Read(ref _iface).PublicIP, PublicIPv6: Volatile.Read(ref _iface).PublicIPv6, BackendType: Backend);

    public int Mtu { get; }

    public async Task ConfigureAsync(Lease lease, CancellationToken ct)
    {
        // No device: only our subnet to remember, whose routes are never a peer's.
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _ownSubnet = lease.Key;
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
            foreach (var e in events)
            {
                Handle(e);
            }
            lock (_programmed)
            {
                BackendMetrics.ProgrammedPeers(Backend, _programmed.Count);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private void Handle(LeaseEvent e)
    {
        var lease = e.Lease;
        bool removed = e.Kind == LeaseEventKind.Removed;
        if (removed)
        {
            _leases.Remove(lease.Key.Subnet.Network);
        }
        else
        {
            _leases[lease.Key.Subnet.Network] = lease;
        }
        foreach (var family in _config.Families)
        {
            if (lease.Key.SubnetOf(family) is { } subnet)
            {
                Handle(lease, family, subnet, removed);
            }
        }
    }

    private void Handle(Lease lease, IpFamily family, IpNetwork subnet, bool removed)
    {
        string name = lease.Key.ToString();
        DesiredPeer? peer = null;
        if (!removed)
        {
            peer = HostGwDesiredState.Peer(lease, family, Volatile.Read(ref _iface).Index, out var skipped);
            if (peer is null && family == IpFamily.Ip4)
            {
                BackendLog.IgnoringPeer(_log, Backend, name, lease.Attrs.BackendType ?? BackendTypes.Udp);
            }
            else if (peer is null && string.Equals(lease.Attrs.BackendType, Backend, StringComparison.Ordinal))
            {
                BackendLog.PeerIpv4Only(_log, Backend, name, skipped!);
            }
        }
        DesiredPeer? old;
        lock (_programmed)
        {
            _programmed.Remove(subnet, out old);
            if (peer is not null)
            {
                _programmed[subnet] = peer;
            }
        }
        if (peer is null)
        {
            foreach (var r in old?.Routes ?? [])
            {
                var route = r.ToRoute(0);
                Try(() => _table.Delete(route), "delete", route);
                BackendLog.RouteRemoved(_log, Backend, name, route.ToString());
            }
            return;
        }
        var current = _table.List(family);
        foreach (var r in peer.Routes)
        {
            var route = r.ToRoute(0);
            if (Try(() => Ensure(r, current), "add", route))
            {
                BackendLog.RouteAdded(_log, Backend, name, route.ToString());
            }
        }
    }

    // A route for the same destination that differs (another gateway or device) is deleted first, as flanneld does;
    // an identical one is kept.
    private void Ensure(DesiredRoute desired, IReadOnlyList<Route> current)
    {
        bool present = false;
        foreach (var r in current.Where(r => r.Destination == desired.Destination))
        {
            if (desired.Matches(r, 0))
            {
                present = true;
            }
            else
            {
                _table.Delete(r);
            }
        }
        if (!present)
        {
            _table.Replace(desired.ToRoute(0));
        }
    }

    private bool Try(Action action, string what, Route route)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One peer's failure (an unreachable gateway, say) must not stop the others; the next reconcile retries.
            BackendLog.RouteFailed(_log, Backend, what, route.ToString(), e.Message);
            return false;
        }
    }

    /// <summary>Removes the drift from the desired state: missing routes put back, stale ones deleted. Returns how many changed.</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            int repaired = 0;
            foreach (var family in _config.Families)
            {
                repaired += Reconcile(family);
            }
            _health.Report("backend", ReconcileInterval * 3);
            return repaired;
        }
        finally
        {
            _lock.Release();
        }
    }

    private int Reconcile(IpFamily family)
    {
        var desired = HostGwDesiredState.For(_config.NetworkOf(family), _leases.Values, Volatile.Read(ref _iface).Index);
        var kernel = new KernelView(0, [], _table.List(family), [], []);
        var own = new HashSet<IpNetwork>();
        if (_ownSubnet?.SubnetOf(family) is { } s)
        {
            own.Add(s);
        }
        int repaired = 0;
        foreach (var drift in DriftFinder.Find(desired, kernel, own, _peersKnown).Drifts.OfType<RouteDrift>())
        {
            if (drift.Desired is { } want)
            {
                var route = want.ToRoute(0);
                if (Try(() => _table.Replace(route), "restore", route))
                {
                    repaired++;
                    BackendMetrics.Repaired(Backend, DriftRepair.What(drift).Replace(' ', '_'));
                    BackendLog.RouteRecovered(_log, Backend, route.ToString());
                }
            }
            else if (drift.Actual is { } stale && Try(() => _table.Delete(stale), "delete", stale))
            {
                repaired++;
                BackendMetrics.Repaired(Backend, DriftRepair.What(drift).Replace(' ', '_'));
                BackendLog.RouteRemoved(_log, Backend, stale.Destination.ToString(), stale.ToString());
            }
        }
        return repaired;
    }

    /// <summary>
    /// Routes derived from the new interface (its index, for the routes' <c>dev</c>) replace the old ones, and every
    /// route the kernel dropped with the link is put back.
    /// </summary>
    public async Task ExternalInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _iface, iface);
            List<Route> stale = [];
            lock (_programmed)
            {
                foreach (var (subnet, old) in _programmed.ToList())
                {
                    var now = HostGwDesiredState.Peer(old.Lease, old.Family, iface.Index, out _)!;
                    if (!now.SameEntries(old))
                    {
                        stale.AddRange(old.Routes.Select(r => r.ToRoute(0)));
                        _programmed[subnet] = now;
                    }
                }
            }
            foreach (var old in stale)
            {
                Try(() => _table.Delete(old), "delete", old);
            }
        }
        finally
        {
            _lock.Release();
        }
        await ReconcileAsync(ct).ConfigureAwait(false);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var events = WatchDeletionsAsync(ct);
        using var timer = new PeriodicTimer(ReconcileInterval);
        try
        {
            do
            {
                await ReconcileAsync(ct).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await events.ConfigureAwait(false);
    }

    // A route of ours deleted by someone else comes back at once, not only at the next tick.
    private async Task WatchDeletionsAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var change in _table.WatchAsync(ct).ConfigureAwait(false))
            {
                bool ours;
                lock (_programmed)
                {
                    ours = change.Overflow || (change.Deleted && change.Route is { } r && _programmed.ContainsKey(r.Destination));
                }
                if (ours)
                {
                    await ReconcileAsync(ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _table.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
