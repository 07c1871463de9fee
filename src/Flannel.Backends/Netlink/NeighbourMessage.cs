using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>
/// One RTM_NEWNEIGH / RTM_DELNEIGH message: an ARP entry (AF_INET), an NDP entry (AF_INET6) or an FDB
/// entry (AF_BRIDGE). <see cref="Address"/> is NDA_DST (an FDB entry's remote, of either family, may be absent).
/// </summary>
internal readonly record struct NeighbourMessage(
    bool Deleted,
    byte Family,
    int LinkIndex,
    ushort State,
    byte Flags,
    IpAddress? Address,
    PhysicalAddress? Mac);
