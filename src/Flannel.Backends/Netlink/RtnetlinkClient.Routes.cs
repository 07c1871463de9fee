using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// The unicast routes of one family of the main table (<c>ip route show</c>, <c>ip -6 route show</c>). A multipath
    /// route appears with no gateway and link index 0: its next hops (RTA_MULTIPATH) are not decoded.
    /// </summary>
    public IReadOnlyList<Route> ListRoutes(IpFamily family = IpFamily.Ip4) =>
        Dump<Route>(RtnetlinkRequests.DumpRoutes(family), "list routes", RtnetlinkMessages.TryReadMainRoute);

    /// <summary><c>ip route replace</c>: creates the route, or replaces the one with the same destination.</summary>
    public void ReplaceRoute(Route route) =>
        Request(RtnetlinkRequests.Route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route), $"replace route {route}");

    /// <summary><c>ip route add</c>; EEXIST when the table already has a route to that destination.</summary>
    public void AddRoute(Route route) =>
        Request(RtnetlinkRequests.Route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route), $"add route {route}");

    /// <summary>
    /// <c>ip route del</c>: matches destination and table, and the gateway and link when given, whatever the route's
    /// scope and protocol; ESRCH when nothing matches.
    /// </summary>
    public void DeleteRoute(Route route) =>
        Request(RtnetlinkRequests.Route(RTM_DELROUTE, 0, route), $"delete route {route}");

    /// <summary>
    /// <c>ip route get destination</c> (either family): the route a packet to <paramref name="destination"/> would
    /// take, with the output link, the gateway if any and the preferred source address (<see cref="Route.Source"/>);
    /// null when the kernel has no route to it (ENETUNREACH).
    /// </summary>
    public Route? GetRouteTo(IpAddress destination)
    {
        Route? found = null;
        try
        {
            Request(RtnetlinkRequests.RouteTo(destination), $"get route to {destination}", message =>
            {
                if (message.Type == RTM_NEWROUTE)
                {
                    found = RtnetlinkMessages.ReadRoute(message, out _);
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == LibC.ENETUNREACH)
        {
            return null;
        }
        return found;
    }
}
