namespace Flannel.Backends.Netlink;

/// <summary>A link was created or changed (<paramref name="Deleted"/> false), or deleted.</summary>
internal sealed record LinkEvent(bool Deleted, LinkInfo Link) : NetlinkEvent;
