using Flannel.Backends.Netlink;

namespace Flannel.Backends.KernelState;

/// <summary>
/// Turns drift into the netlink requests that remove it (missing and wrong entries replaced, stale ones deleted), and
/// a desired peer into the requests that program it or take it out again. Pure: the backend sends them in one batch.
/// </summary>
internal static class DriftRepair
{
    /// <summary>The request that repairs one drift on the device <paramref name="dev"/>, or null for drift no request repairs (a missing device).</summary>
    public static NetlinkRequest? Request(Drift drift, int dev) => drift switch
    {
        AddressDrift { Kind: DriftKinds.Missing } a => NetlinkRequest.AddAddress(dev, a.Address),
        AddressDrift a => NetlinkRequest.DeleteAddress(dev, a.Address),
        RouteDrift { Desired: { } d } => NetlinkRequest.ReplaceRoute(d.ToRoute(dev)),
        RouteDrift { Actual: { } r } => NetlinkRequest.DeleteRoute(r),
        NeighbourDrift { Desired: { } n } => NetlinkRequest.ReplaceNeighbour(dev, n.Address, n.Mac),
        NeighbourDrift { Actual: { } n } => NetlinkRequest.DeleteNeighbour(n.LinkIndex, n.Address),
        FdbDrift { Desired: { } f } => NetlinkRequest.ReplaceFdb(dev, f.Mac, f.Destination),
        FdbDrift { Actual: { Destination: { } dst } f } => NetlinkRequest.DeleteFdb(f.LinkIndex, f.Mac, dst),
        _ => null,
    };

    /// <summary>What the repair of a drift is counted as (flannel_repairs_total's kind): "route", "stale fdb", ...</summary>
    public static string What(Drift drift) => drift.Kind == DriftKinds.Stale ? "stale " + drift.Entry : drift.Entry;

    /// <summary>The requests that program a peer, in flanneld's order: neighbour, FDB, route.</summary>
    public static IEnumerable<NetlinkRequest> Program(DesiredPeer peer, int dev)
    {
        foreach (var n in peer.Neighbours)
        {
            yield return NetlinkRequest.ReplaceNeighbour(dev, n.Address, n.Mac);
        }
        foreach (var f in peer.Fdb)
        {
            yield return NetlinkRequest.ReplaceFdb(dev, f.Mac, f.Destination);
        }
        foreach (var r in peer.Routes)
        {
            yield return NetlinkRequest.ReplaceRoute(r.ToRoute(dev));
        }
    }

    /// <summary>The requests that take a peer out, in reverse order of <see cref="Program"/>.</summary>
    public static IEnumerable<NetlinkRequest> Unprogram(DesiredPeer peer, int dev)
    {
        foreach (var r in peer.Routes.Reverse())
        {
            yield return NetlinkRequest.DeleteRoute(r.ToRoute(dev));
        }
        foreach (var f in peer.Fdb.Reverse())
        {
            yield return NetlinkRequest.DeleteFdb(dev, f.Mac, f.Destination);
        }
        foreach (var n in peer.Neighbours.Reverse())
        {
            yield return NetlinkRequest.DeleteNeighbour(dev, n.Address);
        }
    }
}
