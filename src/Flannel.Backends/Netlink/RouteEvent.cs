namespace Flannel.Backends.Netlink;

/// <summary>A main-table IPv4 unicast route was added or replaced (<paramref name="Deleted"/> false), or deleted.</summary>
public sealed record RouteEvent(bool Deleted, Route Route) : NetlinkEvent;
