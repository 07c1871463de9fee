namespace Flannel.Subnet.Etcd;

/// <summary>
/// etcd answered and refused the call for another reason (InvalidArgument, FailedPrecondition, Unimplemented, ...):
/// the same call would be refused again.
/// </summary>
internal sealed class EtcdRejectedException : EtcdException
{
    public EtcdRejectedException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public EtcdRejectedException() : this("etcd refused the call") { }
    public EtcdRejectedException(string message) : base("Unknown", message, null) { }
    public EtcdRejectedException(string message, Exception inner) : base("Unknown", message, inner) { }

    public override bool IsTransient => false;
}
