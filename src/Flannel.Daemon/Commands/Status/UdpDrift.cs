using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// udp: the TUN device flannel0 and the route <c>Network dev flannel0</c>. The peers live in the daemon's memory (its
/// pump's peer table), so there is nothing per peer to read from the kernel.
/// </summary>
internal static class UdpDrift
{
    public const string DeviceName = "flannel0";

    public static BackendFindings Check(StatusInputs input, IReadOnlyList<Lease> peers, IReadOnlySet<Ip4Network> ownSubnets, List<StatusDrift> drift)
    {
        var kernel = input.Kernel;
        var network = input.Config.Network;
        var device = kernel.Device is { } d && d.Name == DeviceName ? d : null;
        if (device is null)
        {
            drift.Add(new StatusDrift(DriftKinds.Missing, DriftEntries.Device, $"missing device {DeviceName} (udp)", null));
        }
        else
        {
            if (!kernel.Routes.Any(r => r.Destination == network && r.LinkIndex == device.Index && r.Gateway is null))
            {
                drift.Add(new StatusDrift(DriftKinds.Missing, DriftEntries.Route, $"missing route {network} dev {DeviceName}", null));
            }
            // Routes via a gateway into the Network are StaleRoutes' to report.
            foreach (var r in kernel.Routes.Where(r => r.LinkIndex == device.Index && r.Gateway is null && r.Destination != network))
            {
                drift.Add(new StatusDrift(DriftKinds.Stale, DriftEntries.Route, $"stale route {KernelText.Route(r, kernel)}", r.Destination.ToString()));
            }
        }
        // udp sends to every lease, whatever its BackendType (compat §6).
        var states = peers.ToDictionary(p => p, _ => new PeerState(ProgrammedStates.InDaemon, "udp peers live in the daemon's memory"));
        StaleRoutes.Report(input, [], ownSubnets, drift);
        return new BackendFindings(DeviceName, device is not null, states);
    }
}
