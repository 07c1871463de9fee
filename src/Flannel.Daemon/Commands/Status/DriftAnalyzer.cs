using Flannel.Backends;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// Compares the leases in etcd with the kernel of this host: which peers are programmed, and every entry missing,
/// wrong or left over. Pure: no I/O, so each backend's rules are unit-tested on made-up snapshots.
/// </summary>
public static class DriftAnalyzer
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

        var drift = new List<StatusDrift>();
        var findings = (config.BackendType.ToLowerInvariant()) switch
        {
            BackendTypes.Vxlan => VxlanDrift.Check(input, peers, ownSubnets, drift),
            BackendTypes.HostGw => HostGwDrift.Check(input, peers, ownSubnets, drift),
            BackendTypes.Udp => UdpDrift.Check(input, peers, ownSubnets, drift),
            _ => new BackendFindings(null, true, peers.ToDictionary(p => p, _ => new PeerState(ProgrammedStates.NotExpected, "unknown backend type"))),
        };

        var rows = leases.Select(l => Row(l, own.Contains(l.Lease), findings)).ToList();
        var statusConfig = new StatusConfig(input.ConfigKey, config.Network.ToString(), config.SubnetLen, config.SubnetMin.ToString(),
            config.SubnetMax.ToString(), config.BackendType, config.BackendJson, findings.Device, findings.DevicePresent);
        var ownLease = new StatusOwnLease(own.FirstOrDefault()?.Key.Subnet.Network.ToString() ?? input.Own.Subnet?.ToString(), OwnSource(input.Own, own.Count > 0));
        return new StatusReport(statusConfig, ownLease, rows, drift);
    }

    private static StatusLeaseRow Row(LeaseWithTtl l, bool own, BackendFindings findings)
    {
        var lease = l.Lease;
        var state = own ? new PeerState(ProgrammedStates.ThisHost, null) : findings.Peers[lease];
        long? ttl = l.Remaining is { } r ? (long)Math.Floor(r.TotalSeconds) : null;
        return new StatusLeaseRow(lease.Key.Subnet.Network.ToString(), lease.Attrs.PublicIP.ToString(), lease.Attrs.BackendType ?? BackendTypes.Udp,
            ttl, own, state.State, state.Detail);
    }

    private static string OwnSource(OwnHost own, bool found) =>
        !own.IsKnown ? "unknown (no subnet file and no --public-ip): every lease is treated as a peer"
        : found ? own.Source
        : $"{own.Source}, but no lease in etcd matches";
}
