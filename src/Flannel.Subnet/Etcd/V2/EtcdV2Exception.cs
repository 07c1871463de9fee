namespace Flannel.Subnet.Etcd.V2;

/// <summary>The v2 API answered with an error the operator has to act on (not served, credentials, TLS).</summary>
public sealed class EtcdV2Exception : Exception
{
    public EtcdV2Exception() { }
    public EtcdV2Exception(string message) : base(message) { }
    public EtcdV2Exception(string message, Exception inner) : base(message, inner) { }
}
