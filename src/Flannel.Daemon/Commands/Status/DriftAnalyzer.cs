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
        var peers = leases.Select(l => l.Lease).Where(l => !own.Contains(l)).ToList();

        var drift = new List<StatusDrift>();
        BackendFindings? findings = null;
        foreach (var family in config.Families)
        {
            var ownSubnets = own.Select(l => l.Key.SubnetOf(family)).OfType<IpNetwork>().ToHashSet();
            if (family == IpFamily.Ip4 && input.Own.Subnet is { } fromFile)
            {
                ownSubnets.Add(fromFile.Network);
            }
            IpNetwork? ownSubnet = own.FirstOrDefault()?.Key.SubnetOf(family) ??
                                   (family == IpFamily.Ip4 ? input.Own.Subnet?.Network : null);
            var kernel = family == IpFamily.Ip6 ? input.Kernel6 ?? Empty : input.Kernel;
            if (Desired(config, family, ownSubnet, peers, kernel) is not { } desired)
            {
                findings = new BackendFindings(null, true, peers.ToDictionary(p => p, _ => new PeerState(ProgrammedStates.NotExpected, "unknown backend type")));
                break;
            }
            int device = kernel.Device is { } d && d.Name == desired.Device ? d.Index : 0;
            var view = new KernelView(device, kernel.Addresses, kernel.Routes, kernel.Neighbours, kernel.Fdb);
            var found = DriftFinder.Find(desired, view, ownSubnets);
            drift.AddRange(found.Drifts.Select(f => StatusDriftText.Describe(f, desired, kernel)));
            var these = new BackendFindings(desired.Device, desired.Device is null || device > 0, States(desired, found));
            findings = findings is null ? these : Merge(findings, these);
        }

        var backend = findings ?? throw new InvalidOperationException("a network config has at least one family");
        var rows = leases.Select(l => Row(l, own.Contains(l.Lease), backend)).ToList();
        var statusConfig = new StatusConfig(input.ConfigKey, config.Network.ToString(), config.SubnetLen, config.SubnetMin.ToString(),
            config.SubnetMax.ToString(), config.BackendType, config.BackendJson, backend.Device, backend.DevicePresent,
            config.EnableIPv6 ? config.IPv6Network?.ToString() : null);
        var ownLease = new StatusOwnLease(own.FirstOrDefault()?.Key.Subnet.Network.ToString() ?? input.Own.Subnet?.ToString(), OwnSource(input.Own, own.Count > 0));
        return new StatusReport(statusConfig, ownLease, rows, drift);
    }

    private static readonly KernelSnapshot Empty = new(null, [], [], [], [], new Dictionary<int, string>(), new HashSet<IpAddress>(), 0);

    /// <summary>The backend's desired state of one family for these leases, or null for a backend type this build does not know.</summary>
    private static DesiredState? Desired(NetworkConfig config, IpFamily family, IpNetwork? ownSubnet, IReadOnlyList<Lease> peers,
        KernelSnapshot kernel) =>
        config.BackendType.ToLowerInvariant() switch
        {
            BackendTypes.Vxlan => VxlanDesiredState.For(VxlanOptions.Parse(config.BackendJson), config.NetworkOf(family), ownSubnet, peers,
                kernel.DirectlyReachable.Contains),
            BackendTypes.HostGw => HostGwDesiredState.For(config.NetworkOf(family), peers, kernel.ExternalLink),
            // udp is IPv4 only (a dual-stack udp config is refused): its one family.
            BackendTypes.Udp => UdpDesiredState.For(config.Network, ownSubnet?.Ip4, peers),
            _ => null,
        };

    /// <summary>
    /// A dual-stack host's findings: both devices named, and each peer's state the worse of its IPv4 and IPv6 ones,
    /// the IPv6 reason marked as such. A peer reached over IPv4 only (no IPv6 subnet, PublicIPv6 or v6 VtepMAC) stays
    /// programmed, with the reason.
    /// </summary>
    private static BackendFindings Merge(BackendFindings v4, BackendFindings v6)
    {
        string? device = (v4.Device, v6.Device) switch
        {
            (null, var d) => d,
            (var d, null) => d,
            var (a, b) => $"{a} and {b}",
        };
        var peers = new Dictionary<Lease, PeerState>();
        foreach (var (lease, s4) in v4.Peers)
        {
            peers[lease] = v6.Peers.TryGetValue(lease, out var s6) ? Worse(s4, s6) : s4;
        }
        return new BackendFindings(device, v4.DevicePresent && v6.DevicePresent, peers);
    }

    private static PeerState Worse(PeerState v4, PeerState v6)
    {
        string? detail6 = v6.Detail is null ? null : "IPv6: " + v6.Detail;
        if (v4.State == ProgrammedStates.NotExpected || v4.State == ProgrammedStates.InDaemon || v6.State == ProgrammedStates.InDaemon)
        {
            return v4;
        }
        if (v6.State == ProgrammedStates.NotExpected)
        {
            // Reached over IPv4 only: programmed as far as it can be.
            return v4 with { Detail = Join(v4.Detail, detail6) };
        }
        if (v4.State == v6.State)
        {
            return new PeerState(v4.State, Join(v4.Detail, detail6));
        }
        string state = v4.State == ProgrammedStates.Yes && v6.State == ProgrammedStates.Yes ? ProgrammedStates.Yes : ProgrammedStates.Partly;
        return new PeerState(state, Join(v4.Detail, detail6));
    }

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";

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
