namespace Flannel.Subnet.Leases;

public enum LeaseEventKind
{
    Added,
    Removed,
}
