using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.KernelState;

/// <summary>
/// Compares a backend's desired state with the kernel: pure, so the reconcile loops (which repair what it finds, see
/// <see cref="DriftRepair"/>) and <c>flanneld status</c> (which prints it) cannot disagree.
/// </summary>
/// <remarks>
/// The backend owns, and so calls stale when nobody asks for it: an address on its device inside the desired
/// state's address scope; a neighbour on its device inside the Network; a permanent FDB entry with a remote on its
/// device (learnt ones come and go by themselves); a route out of its device that the kernel did not add itself; and a
/// route via a gateway into the Network (what a peer that went away leaves), except to our own subnets.
/// </remarks>
public static class DriftFinder
{
    private const byte RtprotKernel = 2;

    /// <param name="ownSubnets">Our own lease's subnets: routes to them are never a peer's.</param>
    /// <param name="peersKnown">
    /// False until the peer watch has handed over its first listing: the desired peers are then not the full set, so
    /// nothing of a peer is called stale (a restart's first reconcile would otherwise delete the entries of peers not
    /// heard of yet, and traffic to them would stop for that moment).
    /// </param>
    public static DriftReport Find(DesiredState desired, KernelView kernel, IReadOnlySet<IpNetwork> ownSubnets, bool peersKnown = true)
    {
        var drifts = new List<Drift>();
        var peers = new List<PeerDrift>(desired.Peers.Count);
        bool hasDevice = desired.Device is not null;
        bool deviceMissing = hasDevice && !kernel.HasDevice;
        int dev = kernel.DeviceIndex;
        if (deviceMissing)
        {
            drifts.Add(new DeviceDrift(desired.Device!, desired.DeviceKind));
        }
        else if (hasDevice && desired.Addresses.Count > 0)
        {
            // No address desired means our lease is not known yet (or to status): the device's addresses are not judged.
            var have = kernel.Addresses.Select(a => a.Address).ToHashSet();
            foreach (var want in desired.Addresses.Where(a => !have.Contains(a)))
            {
                drifts.Add(new AddressDrift(DriftKinds.Missing, want));
            }
            foreach (var a in kernel.Addresses.Where(a => desired.AddressScope.Contains(a.Address.Ip) && !desired.Addresses.Contains(a.Address)))
            {
                drifts.Add(new AddressDrift(DriftKinds.Stale, a.Address));
            }
        }

        // Lookups, not scans: with thousands of peers an O(n^2) pass would hold the backend's lock for a noticeable time.
        var routes = kernel.Routes.ToLookup(r => (r.Destination, r.Gateway));
        bool Present(DesiredRoute d) => routes[(d.Destination, d.Gateway)].Any(r => d.Matches(r, dev));
        var neighbours = new Dictionary<IpAddress, Neighbour>();
        foreach (var n in kernel.Neighbours)
        {
            neighbours.TryAdd(n.Address, n);
        }
        var fdb = kernel.Fdb.Where(f => f.Destination is not null).Select(f => (f.Mac, f.Destination!.Value)).ToHashSet();
        var wanted = new List<DesiredRoute>(desired.DeviceRoutes);

        if (!deviceMissing)
        {
            foreach (var d in desired.DeviceRoutes.Where(d => !Present(d)))
            {
                drifts.Add(new RouteDrift(DriftKinds.Missing, null, d, null));
            }
        }
        foreach (var p in desired.Peers)
        {
            int expected = p.Routes.Count + p.Neighbours.Count + p.Fdb.Count;
            if (deviceMissing && p.OnDevice)
            {
                peers.Add(new PeerDrift(p, expected, [], Blocked: true));
                continue;
            }
            wanted.AddRange(p.Routes);
            var missing = new List<string>();
            foreach (var r in p.Routes.Where(r => !Present(r)))
            {
                missing.Add(DriftEntries.Route);
                drifts.Add(new RouteDrift(DriftKinds.Missing, p.Subnet, r, null));
            }
            foreach (var n in p.Neighbours)
            {
                if (!neighbours.TryGetValue(n.Address, out var k))
                {
                    missing.Add(DriftEntries.Neighbour);
                    drifts.Add(new NeighbourDrift(DriftKinds.Missing, p.Subnet, n, null));
                }
                else if (!Equals(k.Mac, n.Mac) || !IsPermanent(k.State))
                {
                    missing.Add(DriftEntries.Neighbour);
                    drifts.Add(new NeighbourDrift(DriftKinds.Wrong, p.Subnet, n, k));
                }
            }
            foreach (var f in p.Fdb.Where(f => !fdb.Contains((f.Mac, f.Destination))))
            {
                missing.Add(DriftEntries.Fdb);
                drifts.Add(new FdbDrift(DriftKinds.Missing, p.Subnet, f, null));
            }
            peers.Add(new PeerDrift(p, expected, missing, Blocked: false));
        }

        if (!peersKnown)
        {
            return new DriftReport(drifts, peers);
        }
        var network = desired.Network;
        if (hasDevice && !deviceMissing)
        {
            var wantedNeighbours = desired.Peers.SelectMany(p => p.Neighbours).Select(n => n.Address).ToHashSet();
            foreach (var n in kernel.Neighbours.Where(n => network.Contains(n.Address) && !wantedNeighbours.Contains(n.Address)))
            {
                drifts.Add(new NeighbourDrift(DriftKinds.Stale, null, null, n));
            }
            var wantedFdb = desired.Peers.SelectMany(p => p.Fdb).Select(f => (f.Mac, f.Destination)).ToHashSet();
            foreach (var f in kernel.Fdb.Where(f => f.Destination is { } dst && IsPermanent(f.State) && !wantedFdb.Contains((f.Mac, dst))))
            {
                drifts.Add(new FdbDrift(DriftKinds.Stale, null, null, f));
            }
        }
        var wantedRoutes = wanted.ToLookup(d => (d.Destination, d.Gateway));
        foreach (var r in kernel.Routes)
        {
            bool ours = (hasDevice && !deviceMissing && r.LinkIndex == dev && r.Protocol != RtprotKernel)
                        || (r.Gateway is not null && network.Contains(r.Destination) && !ownSubnets.Contains(r.Destination));
            if (ours && !wantedRoutes[(r.Destination, r.Gateway)].Any(d => d.Matches(r, dev)))
            {
                drifts.Add(new RouteDrift(DriftKinds.Stale, r.Destination, null, r));
            }
        }
        return new DriftReport(drifts, peers);
    }

    // bridge(8)'s `fdb add ... permanent` stores NUD_PERMANENT|NUD_NOARP (0xc0), flannel's netlink call only 0x80:
    // test the bit, not the value.
    private static bool IsPermanent(ushort state) => (state & Neighbour.NudPermanent) != 0;
}
