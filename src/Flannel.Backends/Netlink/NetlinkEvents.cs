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
