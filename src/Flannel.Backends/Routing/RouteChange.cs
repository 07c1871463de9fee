namespace Flannel.Backends.Routing;

/// <summary>A change in the kernel's routes; <see cref="Overflow"/> means events were lost (ENOBUFS): resync everything.</summary>
public sealed record RouteChange(bool Deleted, RouteSpec? Route, bool Overflow = false);
