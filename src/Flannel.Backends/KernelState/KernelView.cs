using Flannel.Backends.Netlink;

namespace Flannel.Backends.KernelState;

/// <summary>
/// What the kernel holds that a backend's desired state is compared with, read in one pass, of the desired state's
/// family (the FDB, which has no family, whole).
/// </summary>
/// <param name="DeviceIndex">The backend's device, 0 when it is missing or the backend has none.</param>
/// <param name="Addresses">The device's addresses.</param>
/// <param name="Routes">The routes of the main table.</param>
/// <param name="Neighbours">The device's neighbour entries.</param>
/// <param name="Fdb">The device's FDB entries.</param>
public sealed record KernelView(
    int DeviceIndex,
    IReadOnlyList<AddressInfo> Addresses,
    IReadOnlyList<Route> Routes,
    IReadOnlyList<Neighbour> Neighbours,
    IReadOnlyList<FdbEntry> Fdb)
{
    public bool HasDevice => DeviceIndex > 0;
}
