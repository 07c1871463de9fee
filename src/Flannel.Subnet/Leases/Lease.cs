namespace Flannel.Subnet.Leases;

/// <summary>One host's lease as stored in etcd.</summary>
/// <param name="Key">The subnet(s) leased.</param>
/// <param name="Attrs">What the host published.</param>
/// <param name="EtcdLeaseId">The etcd lease the key is attached to (0 for a reservation).</param>
/// <param name="ModRevision">The etcd revision of the key's last change.</param>
public sealed record Lease(SubnetKey Key, LeaseAttrs Attrs, long EtcdLeaseId, long ModRevision)
{
    /// <summary>When the etcd lease runs out, where known (read from the server for our own lease).</summary>
    public DateTimeOffset? Expiration { get; init; }

    /// <summary>Same subnet and same published attributes (revision and etcd lease aside).</summary>
    public bool SameContent(Lease other) => Key == other.Key && Attrs == other.Attrs;
}
