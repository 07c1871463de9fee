using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Etcd;

public sealed record LeaseSnapshot(IReadOnlyList<Lease> Leases, long Revision);
