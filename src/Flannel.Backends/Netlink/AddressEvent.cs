namespace Flannel.Backends.Netlink;

/// <summary>An address (IPv4 or IPv6) was added (<paramref name="Deleted"/> false) or removed.</summary>
internal sealed record AddressEvent(bool Deleted, AddressInfo Address) : NetlinkEvent;
