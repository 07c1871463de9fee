using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Etcd;

/// <summary>One key change in a watch response; <see cref="Lease"/> is null for a deletion.</summary>
public sealed record WatchChange(WatchChangeKind Kind, SubnetKey Key, Lease? Lease);
