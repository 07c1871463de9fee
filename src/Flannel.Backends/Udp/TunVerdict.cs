namespace Flannel.Backends.Udp;

/// <summary>What the TUN-side step did with one read.</summary>
internal enum TunVerdict
{
    /// <summary>Queued on the send batch.</summary>
    Queued,

    /// <summary>Dropped and counted.</summary>
    Dropped,

    /// <summary>No route: counted as dropped, and an ICMP net-unreachable waits in <see cref="TunToWire.Icmp"/>.</summary>
    Unreachable,
}
