namespace Flannel.Backends.Netlink;

/// <summary>A main-table unicast route (IPv4 or IPv6) was added or replaced (<paramref name="Deleted"/> false), or deleted.</summary>
internal sealed record RouteEvent(bool Deleted, Route Route) : NetlinkEvent;
