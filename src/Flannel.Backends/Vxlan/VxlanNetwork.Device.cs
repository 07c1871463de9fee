using Flannel.Backends.Interfaces;
using Flannel.Backends.Netlink;

namespace Flannel.Backends.Vxlan;

/// <summary>vxlan's device: noticing it gone or changed, and creating it again with the same VtepMAC.</summary>
public sealed partial class VxlanNetwork
{
    // When rtnetlink reported our device deleted (a timestamp of _time, 0 when not): the recovery's downtime counts
    // from it, not from the reconcile that notices.
    private long _deletedAt;

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
            // Everything that lived on the old device (address, every peer's entries) is missing now: one batch.
            int peers = _programmed.Count;
            int entries = Repair(counted: false);
            double downMs = _time.GetElapsedTime(_missingSince.Value).TotalMilliseconds;
            _missingSince = null;
            BackendMetrics.Recreated("vxlan", created.Name);
            VxlanLog.DeviceRecovered(_log, what, created.Name, VxlanBackendData.FormatMac(_mac), peers, entries, downMs);
            return true;
        }
        catch (Exception e) when (e is NetlinkException or BackendException)
        {
            VxlanLog.DeviceRecoveryFailed(_log, what, e.Message);
            return false;
        }
    }
}
