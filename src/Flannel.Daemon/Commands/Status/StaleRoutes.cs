using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// Routes via a gateway into the Network that no lease asks for: what a peer that went away left behind. Routes
/// without a gateway (our own docker bridge, the udp device's Network route) are not peer routes and are left out.
/// </summary>
internal static class StaleRoutes
{
    public static void Report(StatusInputs input, IReadOnlyList<ExpectedRoute> expected, IReadOnlySet<Ip4Network> ownSubnets, List<StatusDrift> drift)
    {
        var network = input.Config.Network;
        foreach (var r in input.Kernel.Routes)
        {
            if (r.Gateway is null || !network.Contains(r.Destination) || ownSubnets.Contains(r.Destination))
            {
                continue;
            }
            if (!expected.Any(e => e.Matches(r)))
            {
                drift.Add(new StatusDrift(DriftKinds.Stale, DriftEntries.Route, $"stale route {KernelText.Route(r, input.Kernel)}", r.Destination.ToString()));
            }
        }
    }
}
