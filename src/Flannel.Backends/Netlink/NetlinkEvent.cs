namespace Flannel.Backends.Netlink;

/// <summary>Something a <see cref="NetlinkWatcher"/> reports; match on the derived records.</summary>
internal abstract record NetlinkEvent;
