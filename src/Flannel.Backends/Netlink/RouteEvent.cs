namespace Flannel.Backends.Netlink;

/// <summary>A main-table IPv4 unicast route was added or replaced (<paramref name="Deleted"/> false), or deleted.</summary>
internal sealed record RouteEvent(bool Deleted, Route Route) : NetlinkEvent;
