using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>A lease read from etcd with what is left of its etcd lease.</summary>
/// <param name="Remaining">The etcd lease's remaining TTL; null for a key without lease (a reservation, which never
/// expires); negative when etcd no longer knows the lease.</param>
internal sealed record LeaseWithTtl(Lease Lease, TimeSpan? Remaining);
