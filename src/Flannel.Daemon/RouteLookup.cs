using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon;

/// <summary><c>ip route get</c> for --iface-can-reach.</summary>
internal static class RouteLookup
{
    public static string? InterfaceToReach(Ip4Address destination)
    {
        using var rtnl = RouteNetlink.Open();
        return rtnl.GetRouteTo(destination) is { LinkIndex: > 0 } route ? rtnl.GetLink(route.LinkIndex)?.Name : null;
    }
}
