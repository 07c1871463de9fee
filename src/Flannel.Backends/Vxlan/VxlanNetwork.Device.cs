using Flannel.Backends.Interfaces;
using Flannel.Backends.Netlink;

namespace Flannel.Backends.Vxlan;

/// <summary>vxlan's devices: noticing one gone, changed or stripped of an entry, and the external interface changing.</summary>
public sealed partial class VxlanNetwork
{
    // An entry of ours deleted by someone else, one of our devices deleted or set down (or lost events) triggers a
    // reconcile at once. The time of a deletion is when traffic stopped: the recovery's log line counts from it.
    private async Task WatchAsync(CancellationToken ct)
    {
        try
        {
            var groups = NetlinkGroups.Neighbours | NetlinkGroups.Ipv4Routes | NetlinkGroups.Links |
                         (_links.Count > 1 ? NetlinkGroups.Ipv6Routes : NetlinkGroups.None);
            using var watcher = NetlinkWatcher.Open(groups);
            await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
            {
                bool ours = false;
                foreach (var link in _links)
                {
                    int dev = link.Index;
                    ours |= e switch
                    {
                        NeighbourEvent { Deleted: true } n => n.LinkIndex == dev,
                        RouteEvent { Deleted: true } r => link.Network.Contains(r.Route.Destination),
                        LinkEvent l => l.Link.Index == dev && (l.Deleted || !l.Link.IsUp || l.Link.Mtu != link.Mtu),
                        EventsLost => true,
                        _ => false,
                    };
                    if (e is LinkEvent { Deleted: true } gone && gone.Link.Index == dev)
                    {
                        link.MarkDeleted();
                    }
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
}
