using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// What this host's kernel holds of one family, read once: the input of <see cref="DriftAnalyzer"/> next to the
/// leases (a dual-stack network has one for IPv4 and one for IPv6).
/// </summary>
/// <param name="Device">The backend's device of that family; null when it does not exist (or host-gw, which has none).</param>
/// <param name="Routes">The routes of the main table.</param>
/// <param name="Addresses">The addresses of the device (empty without a device).</param>
/// <param name="Neighbours">The ARP (NDP) entries of the device (empty without a device).</param>
/// <param name="Fdb">The FDB entries of the device (empty without a device).</param>
/// <param name="LinkNames">Interface names by index, to name the device of a stale route.</param>
/// <param name="DirectlyReachable">
/// Peer PublicIPs the kernel reaches without a gateway; vxlan's DirectRouting routes those straight, so their expected
/// entries differ. Only filled in when DirectRouting is on.
/// </param>
/// <param name="ExternalLink">
/// The link holding this host's PublicIP (host-gw's routes go out of it), 0 when this host's lease is not known.
/// </param>
internal sealed record KernelSnapshot(
    StatusDevice? Device,
    IReadOnlyList<Route> Routes,
    IReadOnlyList<AddressInfo> Addresses,
    IReadOnlyList<Neighbour> Neighbours,
    IReadOnlyList<FdbEntry> Fdb,
    IReadOnlyDictionary<int, string> LinkNames,
    IReadOnlySet<IpAddress> DirectlyReachable,
    int ExternalLink);
