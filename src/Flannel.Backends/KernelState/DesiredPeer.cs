using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.KernelState;

/// <summary>What one peer lease needs in the kernel, in the order flanneld programs it (neighbour, FDB, route).</summary>
/// <param name="OnDevice">Its entries live on the backend's device (they cannot exist while the device is missing).</param>
/// <param name="How">How the peer is reached, for the log ("VtepMAC ...", "direct route via ...").</param>
public sealed record DesiredPeer(
    Lease Lease,
    IReadOnlyList<DesiredNeighbour> Neighbours,
    IReadOnlyList<DesiredFdb> Fdb,
    IReadOnlyList<DesiredRoute> Routes,
    bool OnDevice,
    string How)
{
    public Ip4Network Subnet => Lease.Key.Subnet.Network;

    public Ip4Address PublicIP => Lease.Attrs.PublicIP;

    /// <summary>The same kernel entries (lists compared by content, which record equality does not do).</summary>
    public bool SameEntries(DesiredPeer other) =>
        Neighbours.SequenceEqual(other.Neighbours) && Fdb.SequenceEqual(other.Fdb) && Routes.SequenceEqual(other.Routes) &&
        OnDevice == other.OnDevice;
}
