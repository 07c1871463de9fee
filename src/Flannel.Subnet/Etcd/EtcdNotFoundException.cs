namespace Flannel.Subnet.Etcd;

/// <summary>etcd does not know what the call named (NotFound), e.g. an etcd lease that expired or was revoked meanwhile.</summary>
internal sealed class EtcdNotFoundException : EtcdException
{
    public EtcdNotFoundException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public EtcdNotFoundException() : this("not found in etcd") { }
    public EtcdNotFoundException(string message) : base("NotFound", message, null) { }
    public EtcdNotFoundException(string message, Exception inner) : base("NotFound", message, inner) { }

    public override bool IsTransient => false;
}
