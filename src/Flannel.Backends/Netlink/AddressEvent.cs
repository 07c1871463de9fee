namespace Flannel.Backends.Netlink;

/// <summary>An IPv4 address was added (<paramref name="Deleted"/> false) or removed.</summary>
internal sealed record AddressEvent(bool Deleted, AddressInfo Address) : NetlinkEvent;
