namespace Flannel.Backends.Netlink;

/// <summary>Which rtnetlink multicast groups a <see cref="NetlinkWatcher"/> joins.</summary>
[Flags]
internal enum NetlinkGroups
{
    None = 0,

    /// <summary>RTNLGRP_LINK: links created, changed (up/down, MTU, ...) and deleted.</summary>
    Links = 1,

    /// <summary>RTNLGRP_IPV4_IFADDR: IPv4 addresses added and removed.</summary>
    Ipv4Addresses = 2,

    /// <summary>RTNLGRP_IPV4_ROUTE: IPv4 routes added, replaced and deleted.</summary>
    Ipv4Routes = 4,

    /// <summary>RTNLGRP_NEIGH: neighbour (ARP) entries and bridge / vxlan FDB entries added, changed and deleted.</summary>
    Neighbours = 8,

    /// <summary>RTNLGRP_IPV6_IFADDR: IPv6 addresses added and removed.</summary>
    Ipv6Addresses = 16,

    /// <summary>RTNLGRP_IPV6_ROUTE: IPv6 routes added, replaced and deleted.</summary>
    Ipv6Routes = 32,
}
