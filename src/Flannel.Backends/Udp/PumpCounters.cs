namespace Flannel.Backends.Udp;

/// <summary>
/// Counters of one pump thread. Only that thread writes them (plain increments, no atomics on the packet path);
/// readers take a possibly slightly stale snapshot.
/// </summary>
public sealed class PumpCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];

    private long _packets, _bytes, _syscalls, _icmpSent;

    // The last datagram dropped as unknown-peer: outer source in the high half, inner source in the low half, both host
    // order; 0 when none since the last TakeLastUnknownPeer. One 64-bit field so a reader never sees the outer address
    // of one datagram with the inner address of another (aligned 64-bit stores are atomic on 64-bit targets).
    private long _lastUnknownPeer;

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

    /// <summary>
    /// Counts an <see cref="DropReason.UnknownPeer"/> drop and remembers its addresses (host order) for the periodic drop
    /// log: one plain store, nothing allocated.
    /// </summary>
    public void DropUnknownPeer(uint outerSource, uint innerSource)
    {
        _drops[(int)DropReason.UnknownPeer]++;
        Volatile.Write(ref _lastUnknownPeer, (long)(((ulong)outerSource << 32) | innerSource));
    }

    /// <summary>
    /// The addresses of the last unknown-peer drop since the previous call, or null; called by the drop log only, so each
    /// offender is described once.
    /// </summary>
    public (uint OuterSource, uint InnerSource)? TakeLastUnknownPeer()
    {
        ulong last = (ulong)Interlocked.Exchange(ref _lastUnknownPeer, 0);
        return last == 0 ? null : ((uint)(last >> 32), (uint)last);
    }

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
