using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Udp;

/// <summary>udp's kernel state: flannel0's MTU, link, address and Network route kept as <see cref="UdpDesiredState"/> says.</summary>
public sealed partial class UdpNetwork
{
    private async Task ReconcileLoggedAsync(CancellationToken ct)
    {
        await _kernel.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Reconcile(repairing: true);
        }
        catch (Exception e) when (e is NetlinkException or IOException)
        {
            UdpLog.ReconcileFailed(_log, e.Message);
        }
        finally
        {
            _kernel.Release();
        }
    }

    // Our device's link, address or route changed, or events were lost: reconcile at once. The pump itself notices a
    // deleted device (its queues report POLLERR); the link event makes no difference to that.
    private async Task WatchAsync(CancellationToken ct)
    {
        try
        {
            using var watcher = NetlinkWatcher.Open(NetlinkGroups.Links | NetlinkGroups.Ipv4Addresses | NetlinkGroups.Ipv4Routes);
            await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
            {
                int dev = Volatile.Read(ref _deviceIndex);
                bool ours = e switch
                {
                    // Another link holding our name going away frees it for the device to come back.
                    LinkEvent l => (l.Link.Index == dev && (l.Deleted || !l.Link.IsUp || l.Link.Mtu != Mtu)) || (l.Deleted && l.Link.Name == DeviceName),
                    AddressEvent { Deleted: true } a => a.Address.LinkIndex == dev,
                    RouteEvent { Deleted: true } r => r.Route.Destination == _context.Config.Network,
                    EventsLost => true,
                    _ => false,
                };
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

    /// <summary>
    /// Device address = the lease's network address /32 (flanneld since v0.11.0), no other address, MTU, link up, and
    /// the whole Network routed into the device (scope universe, as flanneld installs it). Caller holds the kernel lock.
    /// </summary>
    private void Reconcile(bool repairing)
    {
        Ip4Network? address;
        Ip4Network ownSubnet;
        lock (_lock)
        {
            address = _address;
            ownSubnet = _ownSubnet;
        }
        if (address is null || _tun is null)
        {
            return;
        }
        var link = _rtnl.GetLink(DeviceName);
        if (link is null || (Volatile.Read(ref _deviceIndex) is var known and > 0 && link.Index != known))
        {
            // Gone (the pump has seen it, or will, and the loop opens it again), or the name is another link's now:
            // never configure a device that is not ours.
            return;
        }
        int index = link.Index;
        var repaired = new List<string>();
        if (link.Mtu != Mtu)
        {
            _rtnl.SetLinkMtu(index, Mtu);
            repaired.Add("mtu");
        }
        if (!link.IsUp)
        {
            _rtnl.SetLinkUp(index);
            repaired.Add("link up");
        }
        // Address and routes: the drift from udp's desired state, the one `flanneld status` reports.
        var desired = UdpDesiredState.For(_context.Config.Network, ownSubnet, []);
        var kernel = new KernelView(index, _rtnl.ListAddresses(index), [.. _rtnl.ListRoutes().Where(r => r.Table == RouteTable.Main)], [], []);
        var own = new HashSet<IpNetwork> { ownSubnet };
        var fixes = new List<NetlinkRequest>();
        foreach (var drift in DriftFinder.Find(desired, kernel, own).Drifts)
        {
            if (DriftRepair.Request(drift, index) is { } request)
            {
                fixes.Add(request);
                repaired.Add(DriftRepair.What(drift));
                if (drift is RouteDrift { Desired: { } route })
                {
                    UdpLog.RouteEnsured(_log, route.ToRoute(index).ToString());
                }
            }
        }
        foreach (var failure in _rtnl.Batch(fixes).Where(r => r is not null && r.Errno is not (ENOENT or ESRCH)))
        {
            UdpLog.ReconcileFailed(_log, failure!.Message);
        }
        if (repairing)
        {
            foreach (var kind in repaired)
            {
                BackendMetrics.Repaired("udp", kind.Replace(' ', '_'));
            }
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
}
