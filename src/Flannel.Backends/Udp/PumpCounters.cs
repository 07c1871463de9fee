namespace Flannel.Backends.Udp;

/// <summary>
/// Counters of one pump thread. Only that thread writes them (plain increments, no atomics on the packet path);
/// readers take a possibly slightly stale snapshot.
/// </summary>
public sealed class PumpCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];

    private long _packets, _bytes, _syscalls, _icmpSent;

    /// <summary>Packets passed on (one per inner packet, after splitting).</summary>
    public long Packets => Volatile.Read(ref _packets);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Data-path system calls (reads, writes, batched sends and receives).</summary>
    public long Syscalls => Volatile.Read(ref _syscalls);

    public long IcmpSent => Volatile.Read(ref _icmpSent);

    public void Passed(int packets, int bytes)
    {
        _packets += packets;
        _bytes += bytes;
    }

    public void Syscall() => _syscalls++;

    public void Icmp() => _icmpSent++;

    public void Drop(DropReason reason) => _drops[(int)reason]++;

    /// <summary>Counts <paramref name="count"/> packets dropped at once (a merged TUN write that failed).</summary>
    public void Drop(DropReason reason, int count) => _drops[(int)reason] += count;

    public long Drops(DropReason reason) => Volatile.Read(ref _drops[(int)reason]);

    public long TotalDrops
    {
        get
        {
            long total = 0;
            foreach (var reason in Enum.GetValues<DropReason>())
            {
                total += Drops(reason);
            }
            return total;
        }
    }
}
