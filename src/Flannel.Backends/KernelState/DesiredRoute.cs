using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>
/// A route a backend wants in the main table. Routes on the backend's own device name it by <see cref="OnDevice"/>
/// rather than by index, so the desired state stays true when the device is created again with a new index.
/// </summary>
/// <param name="Gateway">The next hop, or null for a route out of the device (udp's Network route).</param>
/// <param name="LinkIndex">The output link when not <see cref="OnDevice"/>; 0 lets the kernel choose and matches any.</param>
/// <param name="OnDevice">The route goes out of the backend's device.</param>
/// <param name="OnLink">RTNH_F_ONLINK (vxlan's <c>via .0 onlink</c>).</param>
public sealed record DesiredRoute(IpNetwork Destination, IpAddress? Gateway, int LinkIndex, bool OnDevice, bool OnLink = false)
{
    /// <summary>The kernel route to program, given the device's current index.</summary>
    public Route ToRoute(int deviceIndex)
    {
        int link = OnDevice ? deviceIndex : LinkIndex;
        return Gateway is { } gw ? Route.Via(Destination, gw, link, OnLink) : new Route(Destination, null, link, RouteScope.Universe);
    }

    /// <summary>Whether a kernel route of the main table is this one.</summary>
    public bool Matches(Route r, int deviceIndex)
    {
        int link = OnDevice ? deviceIndex : LinkIndex;
        return r.Destination == Destination && r.Gateway == Gateway && (link == 0 || r.LinkIndex == link);
    }
}
