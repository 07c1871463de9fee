namespace Flannel.Subnet.Etcd;

/// <summary>
/// The revision a watch (or read) asked for was compacted away (a watch response's compact revision, or OutOfRange):
/// the history after it is gone, so the caller lists everything again.
/// </summary>
internal sealed class WatchCompactedException : EtcdException
{
    public WatchCompactedException(long compactRevision)
        : base("OutOfRange", $"watch revision compacted (compact revision {compactRevision})", null) => CompactRevision = compactRevision;

    public WatchCompactedException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public WatchCompactedException() : this("watch revision compacted") { }
    public WatchCompactedException(string message) : base("OutOfRange", message, null) { }
    public WatchCompactedException(string message, Exception inner) : base("OutOfRange", message, inner) { }

    /// <summary>The oldest revision etcd still has (0 when etcd did not say).</summary>
    public long CompactRevision { get; }

    public override bool IsTransient => false;
}
