using System.Globalization;
using System.Text;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>
/// An IPv4 or IPv6 route (the family of <see cref="Destination"/>), as <c>ip route</c> / <c>ip -6 route</c> show it. <see cref="Via"/> and <see cref="Direct"/> build the two kinds flannel
/// programs, with the scope the kernel expects for each.
/// </summary>
/// <param name="Destination">The prefix; host bits must be clear (the kernel refuses 10.5.2.1/24 with EINVAL).</param>
/// <param name="Gateway">The next hop (RTA_GATEWAY), or null for a directly connected destination.</param>
/// <param name="LinkIndex">The output interface (RTA_OIF), 0 to let the kernel pick it from the gateway.</param>
/// <param name="Scope">Universe for routes via a gateway, Link for directly connected ones.</param>
/// <param name="OnLink">RTNH_F_ONLINK: trust that the gateway is on the link even though no address says so (vxlan).</param>
/// <param name="Protocol">Who installed it (rtm_protocol); RTPROT_BOOT by default, as flannel's Go netlink does.</param>
/// <param name="Table">The routing table; the main table by default.</param>
public sealed record Route(
    IpNetwork Destination,
    IpAddress? Gateway,
    int LinkIndex,
    RouteScope Scope,
    bool OnLink = false,
    byte Protocol = RouteProtocol.Boot,
    byte Table = RouteTable.Main)
{
    /// <summary>The preferred source address (RTA_PREFSRC), as <c>ip route get</c> reports it.</summary>
    public IpAddress? Source { get; init; }

    /// <summary>A route via a gateway: scope universe.</summary>
    public static Route Via(IpNetwork destination, IpAddress gateway, int linkIndex = 0, bool onLink = false) =>
        new(destination, gateway, linkIndex, RouteScope.Universe, onLink);

    /// <summary>A directly connected route out of a link: scope link.</summary>
    public static Route Direct(IpNetwork destination, int linkIndex) =>
        new(destination, null, linkIndex, RouteScope.Link);

    public IpFamily Family => Destination.Family;

    public override string ToString()
    {
        var text = new StringBuilder(Destination.ToString());
        if (Gateway is { } gateway)
        {
            text.Append(CultureInfo.InvariantCulture, $" via {gateway}");
        }
        if (LinkIndex > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" dev #{LinkIndex}");
        }
        if (OnLink)
        {
            text.Append(" onlink");
        }
        if (Scope != RouteScope.Universe)
        {
            text.Append(CultureInfo.InvariantCulture, $" scope {ScopeName(Scope)}");
        }
        if (Protocol != RouteProtocol.Boot)
        {
            text.Append(CultureInfo.InvariantCulture, $" proto {Protocol}");
        }
        if (Table != RouteTable.Main)
        {
            text.Append(CultureInfo.InvariantCulture, $" table {Table}");
        }
        if (Source is { } source)
        {
            text.Append(CultureInfo.InvariantCulture, $" src {source}");
        }
        return text.ToString();
    }

    private static string ScopeName(RouteScope scope) => scope switch
    {
        RouteScope.Universe => "global",
        RouteScope.Site => "site",
        RouteScope.Link => "link",
        RouteScope.Host => "host",
        RouteScope.Nowhere => "nowhere",
        _ => ((byte)scope).ToString(CultureInfo.InvariantCulture),
    };
}
