namespace Flannel.Backends.Netlink;

/// <summary>rtm_scope / ifa_scope: how far a route or address reaches (rtnetlink.h <c>enum rt_scope_t</c>).</summary>
#pragma warning disable CA1028 // the kernel field is a u8
public enum RouteScope : byte
#pragma warning restore CA1028
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}
