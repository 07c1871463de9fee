using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>
/// Everything one backend wants in this host's kernel for our lease and the peer leases: the output of the backend's
/// one pure derivation (<c>VxlanDesiredState</c>, <c>HostGwDesiredState</c>, <c>UdpDesiredState</c>). The backend's
/// reconcile loop repairs the <see cref="DriftFinder"/> difference between it and the kernel; <c>flanneld status</c>
/// prints the same difference.
/// </summary>
/// <param name="Device">The backend's device (flannel.VNI, flannel0), or null (host-gw has none).</param>
/// <param name="DeviceKind">What the device is, for the operator ("vxlan", "udp").</param>
/// <param name="Network">The flannel Network of this family (Network or IPv6Network): entries inside it on the device,
/// and routes via a gateway into it, are the backend's. A dual-stack backend has one desired state per family.</param>
/// <param name="Addresses">The device's addresses (our lease's .0/32, or its IPv6 subnet's first address /128).</param>
/// <param name="AddressScope">Other addresses on the device inside this prefix are stale.</param>
/// <param name="DeviceRoutes">Routes not tied to a peer (udp's <c>Network dev flannel0</c>).</param>
/// <param name="Peers">The peers the backend programs.</param>
/// <param name="Skipped">The peers it does not, with the reason.</param>
public sealed record DesiredState(
    string? Device,
    string? DeviceKind,
    IpNetwork Network,
    IReadOnlyList<IpNetwork> Addresses,
    IpNetwork AddressScope,
    IReadOnlyList<DesiredRoute> DeviceRoutes,
    IReadOnlyList<DesiredPeer> Peers,
    IReadOnlyList<SkippedPeer> Skipped)
{
    /// <summary>The family all of its entries have: the kernel view it is compared with is of this family.</summary>
    public IpFamily Family => Network.Family;
}
