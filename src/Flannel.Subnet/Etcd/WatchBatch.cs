namespace Flannel.Subnet.Etcd;

/// <summary>The changes of one watch response and the revision up to which everything has been seen.</summary>
public sealed record WatchBatch(IReadOnlyList<WatchChange> Changes, long Revision);
