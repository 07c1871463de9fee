using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Netlink;

/// <summary>
/// One RTM_NEWNEIGH / RTM_DELNEIGH message: an ARP entry (AF_INET) or an FDB entry (AF_BRIDGE). <see cref="Address"/>
/// is NDA_DST when it is an IPv4 address (an FDB entry's remote may be IPv6, or absent).
/// </summary>
internal readonly record struct NeighbourMessage(
    bool Deleted,
    byte Family,
    int LinkIndex,
    ushort State,
    byte Flags,
    Ip4Address? Address,
    PhysicalAddress? Mac);
