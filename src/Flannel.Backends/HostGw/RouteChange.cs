using Flannel.Backends.Netlink;

namespace Flannel.Backends.HostGw;

/// <summary>A change in the kernel's routes; <see cref="Overflow"/> means events were lost (ENOBUFS): resync everything.</summary>
internal sealed record RouteChange(bool Deleted, Route? Route, bool Overflow = false);
