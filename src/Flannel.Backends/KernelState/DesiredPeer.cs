using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.KernelState;

/// <summary>
/// What one peer lease needs in the kernel for one family, in the order flanneld programs it (neighbour, FDB, route).
/// A dual-stack lease has one for IPv4 and one for IPv6 (<see cref="Family"/>), each in its family's desired state.
/// </summary>
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
    /// <summary>Which of the lease's subnets and public addresses these entries are for.</summary>
    public IpFamily Family { get; init; } = IpFamily.Ip4;

    /// <summary>The lease's subnet of <see cref="Family"/>.</summary>
    public IpNetwork Subnet => Lease.Key.SubnetOf(Family)!.Value;

    /// <summary>The lease's public address of <see cref="Family"/>.</summary>
    public IpAddress PublicIP => Lease.Attrs.PublicIPOf(Family)!.Value;

    /// <summary>The same kernel entries (lists compared by content, which record equality does not do).</summary>
    public bool SameEntries(DesiredPeer other) =>
        Neighbours.SequenceEqual(other.Neighbours) && Fdb.SequenceEqual(other.Fdb) && Routes.SequenceEqual(other.Routes) &&
        OnDevice == other.OnDevice && Family == other.Family;
}
