namespace Flannel.Subnet.Etcd;

public enum WatchChangeKind
{
    Put,
    Delete,
}
