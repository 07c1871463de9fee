namespace Flannel.Subnet.Etcd;

/// <summary>
/// etcd refused who we are or what we asked for: no or wrong credentials (--etcd-username/--etcd-password), an expired
/// token that re-authentication did not cure, or a role without permission on the prefix. An operator has to act.
/// </summary>
internal sealed class EtcdAccessDeniedException : EtcdException
{
    public EtcdAccessDeniedException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public EtcdAccessDeniedException() : this("etcd denied access") { }
    public EtcdAccessDeniedException(string message) : base("PermissionDenied", message, null) { }
    public EtcdAccessDeniedException(string message, Exception inner) : base("PermissionDenied", message, inner) { }

    public override bool IsTransient => false;
}
