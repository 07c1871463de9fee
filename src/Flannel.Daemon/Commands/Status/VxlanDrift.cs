using Flannel.Backends;
using Flannel.Backends.Netlink;
using Flannel.Backends.Vxlan;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// vxlan, as <see cref="VxlanNetwork"/> programs it: per vxlan peer a neighbour <c>.0 lladdr VtepMAC</c> and an FDB
/// entry <c>VtepMAC dst PublicIP</c> on flannel.VNI and a route <c>subnet via .0 dev flannel.VNI onlink</c>; with
/// DirectRouting to a peer on our L2 network only <c>subnet via PublicIP</c>.
/// </summary>
internal static class VxlanDrift
{
    public static BackendFindings Check(StatusInputs input, IReadOnlyList<Lease> peers, IReadOnlySet<Ip4Network> ownSubnets, List<StatusDrift> drift)
    {
        var options = VxlanOptions.Parse(input.Config.BackendJson);
        string deviceName = $"flannel.{options.Vni}";
        var kernel = input.Kernel;
        var device = kernel.Device is { } d && d.Name == deviceName ? d : null;
        if (device is null)
        {
            drift.Add(new StatusDrift(DriftKinds.Missing, DriftEntries.Device, $"missing device {deviceName} (vxlan)", null));
        }

        var states = new Dictionary<Lease, PeerState>();
        var expectedRoutes = new List<ExpectedRoute>();
        var wantedNeighbours = new HashSet<Ip4Address>();
        var wantedFdb = new HashSet<(string Mac, Ip4Address Dst)>();
        foreach (var lease in peers)
        {
            if (!string.Equals(lease.Attrs.BackendType, BackendTypes.Vxlan, StringComparison.Ordinal))
            {
                states[lease] = new PeerState(ProgrammedStates.NotExpected, $"backend {lease.Attrs.BackendType ?? "udp"}: vxlan ignores it");
                continue;
            }
            if (VxlanBackendData.TryParse(lease.Attrs.BackendData) is not { } data)
            {
                states[lease] = new PeerState(ProgrammedStates.NotExpected, "no valid VtepMAC in BackendData: vxlan ignores it");
                continue;
            }
            var subnet = lease.Key.Subnet.Network;
            var publicIp = lease.Attrs.PublicIP;
            var check = new PeerCheck(subnet.ToString(), drift);
            if (options.DirectRouting && kernel.DirectlyReachable.Contains(publicIp))
            {
                var direct = new ExpectedRoute(subnet, publicIp, LinkIndex: null);
                expectedRoutes.Add(direct);
                check.Expect(direct.IsIn(kernel), DriftEntries.Route, $"route {subnet} via {publicIp}");
            }
            else
            {
                var zero = subnet.Ip;
                string mac = VxlanBackendData.FormatMac(data.VtepMac);
                wantedNeighbours.Add(zero);
                wantedFdb.Add((mac, publicIp));
                if (device is null)
                {
                    // Everything below lives on the device, whose absence is already reported once.
                    check.Impossible($"{DriftEntries.Neighbour}, {DriftEntries.Fdb} and {DriftEntries.Route} (no {deviceName})");
                    states[lease] = Result(check);
                    continue;
                }
                var route = new ExpectedRoute(subnet, zero, device.Index);
                expectedRoutes.Add(route);
                check.Expect(route.IsIn(kernel), DriftEntries.Route, $"route {subnet} via {zero} dev {deviceName} onlink");
                var neighbour = kernel.Neighbours.FirstOrDefault(n => n.Address == zero);
                if (neighbour is null)
                {
                    check.Expect(false, DriftEntries.Neighbour, $"neighbour {zero} lladdr {mac} dev {deviceName}");
                }
                else if (KernelText.Mac(neighbour.Mac) != mac || !IsPermanent(neighbour.State))
                {
                    check.Wrong(DriftEntries.Neighbour, $"neighbour {zero} lladdr {KernelText.Mac(neighbour.Mac)} dev {deviceName}" +
                        (!IsPermanent(neighbour.State) ? $" state 0x{neighbour.State:x2}" : "") + $" (lease VtepMAC {mac}, permanent)");
                }
                else
                {
                    check.Expect(true, DriftEntries.Neighbour, "");
                }
                bool fdb = kernel.Fdb.Any(f => f.Destination == publicIp && KernelText.Mac(f.Mac) == mac);
                check.Expect(fdb, DriftEntries.Fdb, $"fdb {mac} dst {publicIp} dev {deviceName}");
            }
            states[lease] = Result(check);
        }

        if (device is not null)
        {
            var network = input.Config.Network;
            foreach (var n in kernel.Neighbours.Where(n => network.Contains(n.Address) && !wantedNeighbours.Contains(n.Address)))
            {
                drift.Add(new StatusDrift(DriftKinds.Stale, DriftEntries.Neighbour,
                    $"stale neighbour {n.Address} lladdr {KernelText.Mac(n.Mac)} dev {deviceName}", null));
            }
            // Only permanent entries with a remote are flannel's; learnt ones (Learning on) come and go by themselves.
            // A bit test: `bridge fdb add ... permanent` sets NUD_NOARP too (0xc0), flannel's netlink call only 0x80.
            foreach (var f in kernel.Fdb.Where(f => f.Destination is { } dst && IsPermanent(f.State) &&
                                                    !wantedFdb.Contains((KernelText.Mac(f.Mac), dst))))
            {
                drift.Add(new StatusDrift(DriftKinds.Stale, DriftEntries.Fdb,
                    $"stale fdb {KernelText.Mac(f.Mac)} dst {f.Destination} dev {deviceName}", null));
            }
        }
        StaleRoutes.Report(input, expectedRoutes, ownSubnets, drift);
        return new BackendFindings(deviceName, device is not null, states);
    }

    private static bool IsPermanent(ushort state) => (state & Neighbour.NudPermanent) != 0;

    private static PeerState Result(PeerCheck check)
    {
        var (state, detail) = check.Result();
        return new PeerState(state, detail);
    }
}
