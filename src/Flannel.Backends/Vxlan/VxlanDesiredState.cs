using Flannel.Backends.KernelState;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// vxlan's one derivation of the kernel entries it wants: on flannel.VNI our lease's .0/32, and per vxlan peer a
/// permanent neighbour <c>.0 lladdr VtepMAC</c>, an FDB entry <c>VtepMAC dst PublicIP</c> and a route
/// <c>subnet via .0 dev flannel.VNI onlink</c> (flanneld's order); with DirectRouting to a peer on our L2 network only
/// <c>subnet via PublicIP</c>. <see cref="VxlanNetwork"/> programs it, <c>flanneld status</c> checks it.
/// </summary>
public static class VxlanDesiredState
{
    public static string DeviceName(VxlanOptions options) => $"flannel.{options.Vni}";

    /// <param name="ownSubnet">Our lease's subnet, when known (its .0/32 goes on the device).</param>
    /// <param name="onOurL2">
    /// flanneld's DirectRouting test: the kernel reaches this PublicIP without a gateway (<c>ip route get</c>). Only
    /// asked when DirectRouting is on.
    /// </param>
    public static DesiredState For(VxlanOptions options, Ip4Network network, Ip4Network? ownSubnet, IEnumerable<Lease> peers,
        Func<Ip4Address, bool> onOurL2)
    {
        var desired = new List<DesiredPeer>();
        var skipped = new List<SkippedPeer>();
        foreach (var lease in peers)
        {
            bool direct = options.DirectRouting && onOurL2(lease.Attrs.PublicIP);
            if (Peer(lease, direct, out var reason) is { } peer)
            {
                desired.Add(peer);
            }
            else
            {
                skipped.Add(new SkippedPeer(lease, reason!));
            }
        }
        IReadOnlyList<Ip4Network> addresses = ownSubnet is { } own ? [Address(own)] : [];
        return new DesiredState(DeviceName(options), BackendTypes.Vxlan, network, addresses, network, [], desired, skipped);
    }

    /// <summary>flanneld's EnsureV4AddressOnLink: the subnet's .0 as a /32; other addresses inside the Network go.</summary>
    public static Ip4Network Address(Ip4Network ownSubnet) => new(ownSubnet.Network.Ip, 32);

    /// <summary>One peer's entries, or null with the reason when it cannot be a vxlan peer of ours.</summary>
    /// <param name="direct">DirectRouting is on and the peer is on our L2 network.</param>
    public static DesiredPeer? Peer(Lease lease, bool direct, out string? skipped)
    {
        if (!string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal))
        {
            skipped = $"backend {lease.Attrs.BackendType ?? BackendTypes.Udp}: vxlan ignores it";
            return null;
        }
        if (VxlanBackendData.TryParse(lease.Attrs.BackendData) is not { } data)
        {
            skipped = "no valid VtepMAC in BackendData: vxlan ignores it";
            return null;
        }
        skipped = null;
        var subnet = lease.Key.Subnet.Network;
        var publicIp = lease.Attrs.PublicIP;
        if (direct)
        {
            return new DesiredPeer(lease, [], [], [new DesiredRoute(subnet, publicIp, 0, OnDevice: false)], OnDevice: false,
                $"direct route via {publicIp}");
        }
        return new DesiredPeer(lease, [new DesiredNeighbour(subnet.Ip, data.VtepMac)], [new DesiredFdb(data.VtepMac, publicIp)],
            [new DesiredRoute(subnet, subnet.Ip, 0, OnDevice: true, OnLink: true)], OnDevice: true,
            $"VtepMAC {VxlanBackendData.FormatMac(data.VtepMac)}");
    }
}
