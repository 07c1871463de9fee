using Flannel.Backends;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>host-gw: one route <c>subnet via PublicIP</c> per host-gw peer, no device.</summary>
internal static class HostGwDrift
{
    public static BackendFindings Check(StatusInputs input, IReadOnlyList<Lease> peers, IReadOnlySet<Ip4Network> ownSubnets, List<StatusDrift> drift)
    {
        var kernel = input.Kernel;
        var states = new Dictionary<Lease, PeerState>();
        var expected = new List<ExpectedRoute>();
        foreach (var lease in peers)
        {
            if (!string.Equals(lease.Attrs.BackendType, BackendTypes.HostGw, StringComparison.Ordinal))
            {
                states[lease] = new PeerState(ProgrammedStates.NotExpected, $"backend {lease.Attrs.BackendType ?? "udp"}: host-gw ignores it");
                continue;
            }
            var subnet = lease.Key.Subnet.Network;
            var route = new ExpectedRoute(subnet, lease.Attrs.PublicIP, LinkIndex: null);
            expected.Add(route);
            var check = new PeerCheck(subnet.ToString(), drift);
            check.Expect(route.IsIn(kernel), DriftEntries.Route, $"route {subnet} via {lease.Attrs.PublicIP}");
            var (state, detail) = check.Result();
            states[lease] = new PeerState(state, detail);
        }
        StaleRoutes.Report(input, expected, ownSubnets, drift);
        return new BackendFindings(null, true, states);
    }
}
