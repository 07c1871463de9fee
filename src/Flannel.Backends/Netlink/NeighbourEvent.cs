using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>
/// A neighbour entry was added or changed (<paramref name="Deleted"/> false), or deleted: an ARP entry
/// (<paramref name="Family"/> AF_INET, 2) or an FDB entry of a bridge or vxlan link (AF_BRIDGE, 7; its
/// <paramref name="Address"/> is the remote VTEP, null when it has none or it is IPv6). <paramref name="Mac"/> is null
/// when the kernel leaves NDA_LLADDR out, as it does for a deleted ARP entry (no longer valid when reported); a
/// deleted FDB entry carries its MAC. Neighbours of both families are reported.
/// </summary>
internal sealed record NeighbourEvent(bool Deleted, int LinkIndex, byte Family, IpAddress? Address, PhysicalAddress? Mac)
    : NetlinkEvent;
