namespace Flannel.Subnet.Etcd;

/// <summary>
/// The TLS handshake with etcd failed: a CA that did not sign etcd's certificate, or a client certificate etcd does
/// not trust. The detail says which flags to check.
/// </summary>
internal sealed class EtcdTlsException : EtcdException
{
    public EtcdTlsException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public EtcdTlsException() : this("the TLS handshake with etcd failed") { }
    public EtcdTlsException(string message) : base(UnavailableCode, message, null) { }
    public EtcdTlsException(string message, Exception inner) : base(UnavailableCode, message, inner) { }

    public override bool IsTransient => false;
}
