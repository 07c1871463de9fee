using Flannel.Backends.KernelState;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// vxlan's one derivation of the kernel entries it wants, per family: on flannel.VNI our lease's .0/32, and per vxlan
/// peer a permanent neighbour <c>.0 lladdr VtepMAC</c>, an FDB entry <c>VtepMAC dst PublicIP</c> and a route
/// <c>subnet via .0 dev flannel.VNI onlink</c> (flanneld's order); with DirectRouting to a peer on our L2 network only
/// <c>subnet via PublicIP</c>. A dual-stack network has the same on flannel-v6.VNI for the IPv6 subnets, with the
/// peers' BackendV6Data VtepMAC and PublicIPv6 (flanneld's v6 device). <see cref="VxlanNetwork"/> programs it,
/// <c>flanneld status</c> checks it.
/// </summary>
public static class VxlanDesiredState
{
    /// <summary><c>flannel.VNI</c>, or <c>flannel-v6.VNI</c> for IPv6.</summary>
    public static string DeviceName(VxlanOptions options, IpFamily family = IpFamily.Ip4) =>
        family == IpFamily.Ip6 ? $"flannel-v6.{options.Vni}" : $"flannel.{options.Vni}";

    /// <param name="network">The Network or IPv6Network: its family is the one derived.</param>
    /// <param name="ownSubnet">Our lease's subnet of that family, when known (its first address goes on the device).</param>
    /// <param name="onOurL2">
    /// flanneld's DirectRouting test: the kernel reaches this PublicIP without a gateway (<c>ip route get</c>). Only
    /// asked when DirectRouting is on.
    /// </param>
    public static DesiredState For(VxlanOptions options, IpNetwork network, IpNetwork? ownSubnet, IEnumerable<Lease> peers,
        Func<IpAddress, bool> onOurL2)
    {
        var family = network.Family;
        var desired = new List<DesiredPeer>();
        var skipped = new List<SkippedPeer>();
        foreach (var lease in peers)
        {
            bool direct = options.DirectRouting && lease.Attrs.PublicIPOf(family) is { } ip && onOurL2(ip);
            if (Peer(lease, family, direct, out var reason) is { } peer)
            {
                desired.Add(peer);
            }
            else
            {
                skipped.Add(new SkippedPeer(lease, reason!));
            }
        }
        IReadOnlyList<IpNetwork> addresses = ownSubnet is { } own ? [Address(own)] : [];
        return new DesiredState(DeviceName(options, family), BackendTypes.Vxlan, network, addresses, network, [], desired, skipped);
    }

    /// <summary>
    /// flanneld's EnsureV4AddressOnLink / EnsureV6AddressOnLink: the subnet's first address as a /32 (.0) or /128;
    /// other addresses inside the Network go.
    /// </summary>
    public static IpNetwork Address(IpNetwork ownSubnet) => IpNetwork.Host(ownSubnet.Ip);

    /// <summary>One peer's entries of one family, or null with the reason when it cannot be a vxlan peer of ours.</summary>
    /// <param name="direct">DirectRouting is on and the peer is on our L2 network.</param>
    public static DesiredPeer? Peer(Lease lease, IpFamily family, bool direct, out string? skipped)
    {
        if (!string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal))
        {
            skipped = $"backend {lease.Attrs.BackendType ?? BackendTypes.Udp}: vxlan ignores it";
            return null;
        }
        bool v6 = family == IpFamily.Ip6;
        if (lease.Key.SubnetOf(family) is not { } subnet || lease.Attrs.PublicIPOf(family) is not { } publicIp)
        {
            skipped = lease.Key.Ipv6Subnet is null ? "no IPv6 subnet: reached over IPv4 only" : "no PublicIPv6: reached over IPv4 only";
            return null;
        }
        if (VxlanBackendData.TryParse(v6 ? lease.Attrs.BackendV6Data : lease.Attrs.BackendData) is not { } data)
        {
            skipped = v6 ? "no valid VtepMAC in BackendV6Data: reached over IPv4 only" : "no valid VtepMAC in BackendData: vxlan ignores it";
            return null;
        }
        skipped = null;
        if (direct)
        {
            return new DesiredPeer(lease, [], [], [new DesiredRoute(subnet, publicIp, 0, OnDevice: false)], OnDevice: false,
                $"direct route via {publicIp}") { Family = family };
        }
        return new DesiredPeer(lease, [new DesiredNeighbour(subnet.Ip, data.VtepMac)], [new DesiredFdb(data.VtepMac, publicIp)],
            [new DesiredRoute(subnet, subnet.Ip, 0, OnDevice: true, OnLink: true)], OnDevice: true,
            $"VtepMAC {VxlanBackendData.FormatMac(data.VtepMac)}") { Family = family };
    }
}
