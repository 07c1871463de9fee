using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Leases;

/// <summary>
/// flannel's random subnet choice (compat §1.6): walk SubnetMin..SubnetMax in subnet-size steps, skip candidates
/// that overlap a lease, collect the first 100 free ones and pick one uniformly. IPv6 independently the same way.
/// </summary>
internal static class SubnetAllocator
{
    public const int CandidateLimit = 100;

    /// <summary>A free key, or null when the range is full ("out of subnets").</summary>
    public static SubnetKey? Allocate(NetworkConfig config, IEnumerable<SubnetKey> taken, Random random)
    {
        var takenList = taken as IReadOnlyCollection<SubnetKey> ?? taken.ToList();
        if (!config.EnableIPv4)
        {
            throw new NotSupportedException("IPv6-only networks are not supported in etcd mode: subnet keys need an IPv4 part");
        }
        var v4 = Pick(Candidates4(config, takenList), random);
        if (v4 is null)
        {
            return null;
        }
        Ip6Network? v6 = null;
        if (config.EnableIPv6)
        {
            v6 = Pick(Candidates6(config, takenList), random);
            if (v6 is null)
            {
                return null;
            }
        }
        return new SubnetKey(v4.Value, v6);
    }

    private static T? Pick<T>(List<T> candidates, Random random) where T : struct =>
        candidates.Count == 0 ? null : candidates[random.Next(candidates.Count)];

    private static List<Ip4Network> Candidates4(NetworkConfig config, IReadOnlyCollection<SubnetKey> taken)
    {
        // Taken ranges as sorted [first, last] address intervals, so the walk is linear in candidates + leases.
        var ranges = taken.Select(k => k.Subnet)
            .Select(n => (First: (ulong)n.Network.Ip.Value, Last: n.Network.Ip.Value + n.Size - 1))
            .OrderBy(r => r.First).ToList();
        var result = new List<Ip4Network>();
        ulong size = 1UL << (32 - config.SubnetLen);
        int next = 0;
        ulong maxLast = 0;
        for (ulong c = config.SubnetMin.Value; c <= config.SubnetMax.Value && result.Count < CandidateLimit; c += size)
        {
            ulong last = c + size - 1;
            // Fold in every range that starts before this candidate ends; maxLast is the furthest any of them reaches.
            bool overlaps = maxLast >= c && next > 0;
            while (next < ranges.Count && ranges[next].First <= last)
            {
                if (ranges[next].Last >= c)
                {
                    overlaps = true;
                }
                maxLast = Math.Max(maxLast, ranges[next].Last);
                next++;
            }
            if (!overlaps)
            {
                result.Add(new Ip4Network(new Ip4Address((uint)c), config.SubnetLen));
            }
        }
        return result;
    }

    private static List<Ip6Network> Candidates6(NetworkConfig config, IReadOnlyCollection<SubnetKey> taken)
    {
        var ranges = taken.Where(k => k.Ipv6Subnet is not null).Select(k => k.Ipv6Subnet!.Value.Network)
            .Select(n => (First: n.Ip.Value, Last: n.Ip.Value + (n.Size - 1)))
            .OrderBy(r => r.First).ToList();
        var result = new List<Ip6Network>();
        UInt128 size = UInt128.One << (128 - config.IPv6SubnetLen);
        UInt128 min = config.IPv6SubnetMin!.Value.Value, max = config.IPv6SubnetMax!.Value.Value;
        int next = 0;
        UInt128 maxLast = 0;
        for (UInt128 c = min; c <= max && result.Count < CandidateLimit; c += size)
        {
            UInt128 last = c + size - 1;
            bool overlaps = next > 0 && maxLast >= c;
            while (next < ranges.Count && ranges[next].First <= last)
            {
                if (ranges[next].Last >= c)
                {
                    overlaps = true;
                }
                maxLast = ranges[next].Last > maxLast ? ranges[next].Last : maxLast;
                next++;
            }
            if (!overlaps)
            {
                result.Add(new Ip6Network(new Ip6Address(c), config.IPv6SubnetLen));
            }
            if (c > UInt128.MaxValue - size)
            {
                break; // the last subnet of the address space
            }
        }
        return result;
    }
}
