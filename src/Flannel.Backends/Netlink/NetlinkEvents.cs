using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>Which rtnetlink multicast groups a <see cref="NetlinkWatcher"/> joins.</summary>
[Flags]
public enum NetlinkGroups
{
    None = 0,

    /// <summary>RTNLGRP_LINK: links created, changed (up/down, MTU, ...) and deleted.</summary>
    Links = 1,

    /// <summary>RTNLGRP_IPV4_IFADDR: IPv4 addresses added and removed.</summary>
    Ipv4Addresses = 2,

    /// <summary>RTNLGRP_IPV4_ROUTE: IPv4 routes added, replaced and deleted.</summary>
    Ipv4Routes = 4,

    /// <summary>RTNLGRP_NEIGH: neighbour (ARP) entries and bridge / vxlan FDB entries added, changed and deleted.</summary>
    Neighbours = 8,
}

/// <summary>Something a <see cref="NetlinkWatcher"/> reports; match on the derived records.</summary>
public abstract record NetlinkEvent;

/// <summary>A main-table IPv4 unicast route was added or replaced (<paramref name="Deleted"/> false), or deleted.</summary>
public sealed record RouteEvent(bool Deleted, Route Route) : NetlinkEvent;

/// <summary>A link was created or changed (<paramref name="Deleted"/> false), or deleted.</summary>
public sealed record LinkEvent(bool Deleted, LinkInfo Link) : NetlinkEvent;

/// <summary>An IPv4 address was added (<paramref name="Deleted"/> false) or removed.</summary>
public sealed record AddressEvent(bool Deleted, AddressInfo Address) : NetlinkEvent;

/// <summary>
/// A neighbour entry was added or changed (<paramref name="Deleted"/> false), or deleted: an ARP entry
/// (<paramref name="Family"/> AF_INET, 2) or an FDB entry of a bridge or vxlan link (AF_BRIDGE, 7; its
/// <paramref name="Address"/> is the remote VTEP, null when it has none or it is IPv6). <paramref name="Mac"/> is null
/// when the kernel leaves NDA_LLADDR out, as it does for a deleted ARP entry (no longer valid when reported); a
/// deleted FDB entry carries its MAC. IPv6 neighbours are not reported.
/// </summary>
public sealed record NeighbourEvent(bool Deleted, int LinkIndex, byte Family, Ip4Address? Address, PhysicalAddress? Mac)
    : NetlinkEvent;

/// <summary>
/// The kernel dropped events because the socket's receive queue was full (recvmsg failed with ENOBUFS): some changes
/// were never delivered, so the caller must list the current state again (resync) rather than trust its view.
/// </summary>
/// <remarks>
/// The kernel goes on dropping notifications until the reader has drained the events still queued (the socket stays
/// NETLINK_S_CONGESTED until netlink_rcv_wake() sees an empty queue), so keep reading, and resync after this event
/// rather than stopping the stream to do it.
/// </remarks>
public sealed record EventsLost : NetlinkEvent
{
    public static EventsLost Instance { get; } = new();
}
