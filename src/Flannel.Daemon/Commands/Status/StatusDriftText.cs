using Flannel.Backends.KernelState;
using Flannel.Backends.Netlink;

namespace Flannel.Daemon.Commands.Status;

/// <summary>A drift in the words of <c>ip</c> and <c>bridge</c>, as the status report prints it.</summary>
internal static class StatusDriftText
{
    public static StatusDrift Describe(Drift drift, DesiredState desired, KernelSnapshot kernel)
    {
        string dev = desired.Device ?? "";
        string text = drift switch
        {
            DeviceDrift d => $"missing device {d.Name} ({d.DeviceKind})",
            AddressDrift a => $"{a.Kind} address {a.Address} dev {dev}",
            RouteDrift { Desired: { } r } => $"missing route {r.Destination}" + (r.Gateway is { } gw ? $" via {gw}" : "") +
                                              (r.OnDevice ? $" dev {dev}" : "") + (r.OnLink ? " onlink" : ""),
            RouteDrift { Actual: { } r } => $"stale route {KernelText.Route(r, kernel)}",
            NeighbourDrift { Kind: DriftKinds.Wrong, Desired: { } want, Actual: { } have } =>
                $"wrong neighbour {want.Address} lladdr {KernelText.Mac(have.Mac)} dev {dev}" +
                ((have.State & Neighbour.NudPermanent) == 0 ? $" state 0x{have.State:x2}" : "") + $" (lease VtepMAC {KernelText.Mac(want.Mac)}, permanent)",
            NeighbourDrift { Desired: { } want } => $"missing neighbour {want.Address} lladdr {KernelText.Mac(want.Mac)} dev {dev}",
            NeighbourDrift { Actual: { } have } => $"stale neighbour {have.Address} lladdr {KernelText.Mac(have.Mac)} dev {dev}",
            FdbDrift { Desired: { } want } => $"missing fdb {KernelText.Mac(want.Mac)} dst {want.Destination} dev {dev}",
            FdbDrift { Actual: { } have } => $"stale fdb {KernelText.Mac(have.Mac)} dst {have.Destination} dev {dev}",
            _ => $"{drift.Kind} {drift.Entry}",
        };
        return new StatusDrift(drift.Kind, drift.Entry, text, drift.Subnet?.ToString());
    }
}
