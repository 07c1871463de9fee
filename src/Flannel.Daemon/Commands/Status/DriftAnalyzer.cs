using Flannel.Backends;
using Flannel.Backends.HostGw;
using Flannel.Backends.KernelState;
using Flannel.Backends.Udp;
using Flannel.Backends.Vxlan;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// Compares the leases in etcd with the kernel of this host: which peers are programmed, and every entry missing,
/// wrong or left over. The desired state is the backend's own derivation (the one its reconcile loop programs) and
/// the comparison is <see cref="DriftFinder"/>, the one the reconcile loop repairs: status reports exactly what the
/// daemon would change. Pure: no I/O, so it is unit-tested on made-up snapshots.
/// </summary>
internal static class DriftAnalyzer
{
    public static StatusReport Analyze(StatusInputs input)
    {
        var config = input.Config;
        var leases = input.Leases.OrderBy(l => l.Lease.Key.Subnet.Ip).ToList();
        var own = leases.Where(l => input.Own.Owns(l.Lease)).Select(l => l.Lease).ToHashSet();
        var ownSubnets = own.Select(l => l.Key.Subnet.Network).ToHashSet();
        if (input.Own.Subnet is { } fromFile)
        {
            ownSubnets.Add(fromFile.Network);
        }
        var peers = leases.Select(l => l.Lease).Where(l => !own.Contains(l)).ToList();
        Ip4Network? ownSubnet = own.FirstOrDefault()?.Key.Subnet.Network ?? input.Own.Subnet?.Network;

        var drift = new List<StatusDrift>();
        BackendFindings findings;
        if (Desired(config, ownSubnet, peers, input.Kernel) is { } desired)
        {
            var kernel = input.Kernel;
            int device = kernel.Device is { } d && d.Name == desired.Device ? d.Index : 0;
            var view = new KernelView(device, kernel.Addresses, kernel.Routes, kernel.Neighbours, kernel.Fdb);
            var found = DriftFinder.Find(desired, view, ownSubnets);
            drift.AddRange(found.Drifts.Select(f => StatusDriftText.Describe(f, desired, kernel)));
            findings = new BackendFindings(desired.Device, desired.Device is null || device > 0, States(desired, found));
        }
        else
        {
            findings = new BackendFindings(null, true, peers.ToDictionary(p => p, _ => new PeerState(ProgrammedStates.NotExpected, "unknown backend type")));
        }

        var rows = leases.Select(l => Row(l, own.Contains(l.Lease), findings)).ToList();
        var statusConfig = new StatusConfig(input.ConfigKey, config.Network.ToString(), config.SubnetLen, config.SubnetMin.ToString(),
            config.SubnetMax.ToString(), config.BackendType, config.BackendJson, findings.Device, findings.DevicePresent,
            config.EnableIPv6 ? config.IPv6Network?.ToString() : null);
        var ownLease = new StatusOwnLease(own.FirstOrDefault()?.Key.Subnet.Network.ToString() ?? input.Own.Subnet?.ToString(), OwnSource(input.Own, own.Count > 0));
        return new StatusReport(statusConfig, ownLease, rows, drift);
    }

    /// <summary>The backend's desired state for these leases, or null for a backend type this build does not know.</summary>
    private static DesiredState? Desired(NetworkConfig config, Ip4Network? ownSubnet, IReadOnlyList<Lease> peers, KernelSnapshot kernel) =>
        config.BackendType.ToLowerInvariant() switch
        {
            BackendTypes.Vxlan => VxlanDesiredState.For(VxlanOptions.Parse(config.BackendJson), config.Network, ownSubnet, peers,
                kernel.DirectlyReachable.Contains),
            BackendTypes.HostGw => HostGwDesiredState.For(config.Network, peers, kernel.ExternalLink),
            BackendTypes.Udp => UdpDesiredState.For(config.Network, ownSubnet, peers),
            _ => null,
        };

    private static Dictionary<Lease, PeerState> States(DesiredState desired, DriftReport found)
    {
        var states = new Dictionary<Lease, PeerState>();
        foreach (var s in desired.Skipped)
        {
            states[s.Lease] = new PeerState(s.InDaemon ? ProgrammedStates.InDaemon : ProgrammedStates.NotExpected, s.Reason);
        }
        foreach (var p in found.Peers)
        {
            states[p.Peer.Lease] = p.Blocked
                ? new PeerState(ProgrammedStates.No, $"missing {EntryList(p.Peer)} (no {desired.Device})")
                : p.Missing.Count == 0 ? new PeerState(ProgrammedStates.Yes, null)
                : new PeerState(p.Missing.Count == p.Expected ? ProgrammedStates.No : ProgrammedStates.Partly, "missing " + string.Join(", ", p.Missing));
        }
        return states;
    }

    // "neighbour, fdb and route": what a peer would have on the missing device.
    private static string EntryList(DesiredPeer peer)
    {
        var kinds = new List<string>();
        if (peer.Neighbours.Count > 0)
        {
            kinds.Add(DriftEntries.Neighbour);
        }
        if (peer.Fdb.Count > 0)
        {
            kinds.Add(DriftEntries.Fdb);
        }
        if (peer.Routes.Count > 0)
        {
            kinds.Add(DriftEntries.Route);
        }
        return kinds.Count <= 1 ? string.Join("", kinds) : string.Join(", ", kinds[..^1]) + " and " + kinds[^1];
    }

    private static StatusLeaseRow Row(LeaseWithTtl l, bool own, BackendFindings findings)
    {
        var lease = l.Lease;
        var state = own ? new PeerState(ProgrammedStates.ThisHost, null) : findings.Peers[lease];
        long? ttl = l.Remaining is { } r ? (long)Math.Floor(r.TotalSeconds) : null;
        return new StatusLeaseRow(lease.Key.Subnet.Network.ToString(), lease.Attrs.PublicIP.ToString(), lease.Attrs.BackendType ?? BackendTypes.Udp,
            ttl, own, state.State, state.Detail, lease.Key.Ipv6Subnet?.ToString(), lease.Attrs.PublicIPv6?.ToString());
    }

    private static string OwnSource(OwnHost own, bool found) =>
        !own.IsKnown ? "unknown (no subnet file and no --public-ip): every lease is treated as a peer"
        : found ? own.Source
        : $"{own.Source}, but no lease in etcd matches";
}
