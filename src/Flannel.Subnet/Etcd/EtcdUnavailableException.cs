namespace Flannel.Subnet.Etcd;

/// <summary>
/// etcd could not serve the call now: not reachable, without a leader, the connection lost under the call, or the call
/// cut short (Unavailable, DeadlineExceeded, Aborted, ...). Another attempt may succeed; the lease loops retry.
/// </summary>
internal sealed class EtcdUnavailableException : EtcdException
{
    public EtcdUnavailableException(string code, string detail, Exception? inner) : base(code, detail, inner) { }

    public EtcdUnavailableException() : this("etcd is not available") { }
    public EtcdUnavailableException(string message) : base(UnavailableCode, message, null) { }
    public EtcdUnavailableException(string message, Exception inner) : base(UnavailableCode, message, inner) { }

    public override bool IsTransient => true;
}
