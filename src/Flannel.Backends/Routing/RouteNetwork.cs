using Flannel.Backends.Host;
using Flannel.Subnet;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Routing;

/// <summary>
/// A backend network that programs one route per peer (flannel's <c>RouteNetwork</c>, shared by host-gw and vxlan's
/// direct routing): desired state from the lease events and the external interface, made true in the kernel on every
/// event, on every route deletion the kernel reports, when the external interface comes back (the kernel drops the
/// routes via a link that goes down without a word: fib_disable_ip() sends no RTM_DELROUTE), and every 10 s
/// (flanneld's route check loop).
/// </summary>
public sealed class RouteNetwork : IBackendNetwork
{
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);

    private readonly IRouteTable _table;
    private readonly string _backendType;
    private readonly Func<Lease, ExternalInterface, RouteSpec> _routeFor;
    private readonly Func<ExternalInterface, LeaseAttrs> _attrsFor;
    private readonly ILoopHealth _health;
    private readonly ILogger _log;
    private readonly Dictionary<Ip4Network, RouteSpec> _desired = [];
    private readonly Dictionary<Ip4Network, Lease> _leases = [];
    private ExternalInterface _iface;
    private readonly SemaphoreSlim _lock = new(1, 1);

    public RouteNetwork(BackendContext context, IRouteTable table, Func<ExternalInterface, LeaseAttrs> attrsFor, int mtu, string backendType,
        Func<Lease, ExternalInterface, RouteSpec> routeFor)
    {
        _table = table;
        _iface = context.Iface;
        _attrsFor = attrsFor;
        Mtu = mtu;
        _backendType = backendType;
        _routeFor = routeFor;
        _health = context.Health;
        _log = context.Logs.CreateLogger<RouteNetwork>();
    }

    public LeaseAttrs LeaseAttrs => _attrsFor(Volatile.Read(ref _iface));

    public int Mtu { get; }

    /// <summary>The routes this network keeps in the kernel, by destination.</summary>
    public IReadOnlyCollection<RouteSpec> DesiredRoutes
    {
        get
        {
            lock (_desired)
            {
                return [.. _desired.Values];
            }
        }
    }

    public Task ConfigureAsync(Lease lease, CancellationToken ct) => Task.CompletedTask; // no device: nothing to set up

    public async Task HandlePeersAsync(IReadOnlyList<LeaseEvent> events, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var e in events)
            {
                Handle(e);
            }
            lock (_desired)
            {
                BackendMetrics.ProgrammedPeers(_backendType, _desired.Count);
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
        string peer = lease.Key.ToString();
        if (e.Kind == LeaseEventKind.Removed)
        {
            RouteSpec? route;
            lock (_desired)
            {
                _desired.Remove(lease.Key.Subnet.Network, out route);
                _leases.Remove(lease.Key.Subnet.Network);
            }
            if (route is not null)
            {
                Try(() => _table.Delete(route), "delete", route);
                BackendLog.RouteRemoved(_log, _backendType, peer, route.ToString());
            }
            return;
        }
        if (!string.Equals(lease.Attrs.BackendType, _backendType, StringComparison.Ordinal))
        {
            BackendLog.IgnoringPeer(_log, _backendType, peer, lease.Attrs.BackendType ?? "udp");
            return;
        }
        var desired = _routeFor(lease, Volatile.Read(ref _iface));
        lock (_desired)
        {
            _desired[desired.Destination] = desired;
            _leases[desired.Destination] = lease;
        }
        if (Try(() => Ensure(desired, _table.List()), "add", desired))
        {
            BackendLog.RouteAdded(_log, _backendType, peer, desired.ToString());
        }
    }

    // A route for the same destination that differs (another gateway or device) is deleted first, as flanneld does;
    // an identical one is kept.
    private bool Ensure(RouteSpec desired, IReadOnlyList<RouteSpec> current)
    {
        bool present = false;
        foreach (var r in current)
        {
            if (r.Destination != desired.Destination)
            {
                continue;
            }
            if (r == desired)
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
            _table.Replace(desired);
        }
        return !present;
    }

    private bool Try(Action action, string what, RouteSpec route)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One peer's failure (an unreachable gateway, say) must not stop the others; the next reconcile retries.
            BackendLog.RouteFailed(_log, _backendType, what, route.ToString(), e.Message);
            return false;
        }
    }

    /// <summary>Puts back every desired route that is missing; returns how many were repaired.</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var current = _table.List();
            int repaired = 0;
            foreach (var route in DesiredRoutes)
            {
                if (current.Contains(route))
                {
                    continue;
                }
                if (Try(() => Ensure(route, current), "restore", route))
                {
                    repaired++;
                    BackendMetrics.Repaired(_backendType, "route");
                    BackendLog.RouteRecovered(_log, _backendType, route.ToString());
                }
            }
            _health.Report("backend", ReconcileInterval * 3);
            return repaired;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Routes derived from the new interface (its index, for host-gw's <c>dev</c>) replace the old ones, and every
    /// route the kernel dropped with the link is put back.
    /// </summary>
    public async Task ExternalInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _iface, iface);
            List<RouteSpec> stale = [];
            lock (_desired)
            {
                foreach (var (destination, lease) in _leases)
                {
                    var now = _routeFor(lease, iface);
                    if (_desired[destination] != now)
                    {
                        stale.Add(_desired[destination]);
                        _desired[destination] = now;
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
                lock (_desired)
                {
                    ours = change.Overflow || (change.Deleted && change.Route is { } r && _desired.ContainsKey(r.Destination));
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
