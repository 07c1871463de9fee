namespace Flannel.Subnet.Etcd;

public sealed class WatchCompactedException : Exception
{
    public WatchCompactedException(long compactRevision)
        : base($"watch revision compacted (compact revision {compactRevision})") => CompactRevision = compactRevision;

    public WatchCompactedException() { }
    public WatchCompactedException(string message) : base(message) { }
    public WatchCompactedException(string message, Exception inner) : base(message, inner) { }

    public long CompactRevision { get; }
}
