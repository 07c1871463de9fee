using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Core;

namespace Flannel.Subnet.Etcd;

/// <summary>
/// Says why a call to etcd failed in an operator's terms: which endpoints were tried and what the network said
/// ("connection refused", "no route to host", a TLS failure), instead of gRPC's "Error connecting to subchannel."
/// with the real cause hidden in its debug exception.
/// </summary>
internal static class EtcdFailure
{
    /// <summary>
    /// The cause of a failed connection, or null when <paramref name="e"/> is not one (etcd answered, e.g. with
    /// Unavailable "etcdserver: no leader", or refused).
    /// </summary>
    public static string? ConnectCause(RpcException e)
    {
        if (e.StatusCode == StatusCode.Unimplemented && e.Status.Detail.Contains("HTTP status code", StringComparison.Ordinal))
        {
            // Something that speaks HTTP but not etcd's gRPC API answered (a proxy, a web server, etcd's peer port).
            return $"the endpoint answered HTTP, but is not etcd's client API ({e.Status.Detail.TrimEnd('.')}); check the address and port (etcd's client port is 2379)";
        }
        if (e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal))
        {
            return null;
        }
        for (Exception? x = e.Status.DebugException; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case SocketException s:
                    return Socket(s);
                case AuthenticationException a:
                    return $"the TLS handshake failed: {a.Message}";
                case HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } h:
                    return $"the TLS handshake failed: {h.Message}";
            }
        }
        // Without a client-side exception the status came from etcd itself ("etcdserver: no leader"): it was reached.
        return e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is { } other ? Trim(other.Message) : null;
    }

    /// <summary>
    /// The etcd layer's exception for a failed gRPC call: its type says what kind of failure it is, its text is the
    /// operator's (a failed connection names the endpoints and the network's answer, a TLS failure the flags to check).
    /// </summary>
    public static EtcdException ToException(RpcException e, IReadOnlyList<string> endpoints, bool useTls)
    {
        string code = e.StatusCode.ToString();
        if (useTls && IsTlsFailure(e))
        {
            // gRPC reports a refused client certificate as a failed HTTP/2 handshake: say what the operator can fix.
            return new EtcdTlsException(code, TlsFailureHint + (ConnectCause(e) ?? e.Status.Detail), e);
        }
        if (ConnectCause(e) is { } cause)
        {
            // Unavailable whatever gRPC said (Internal, Unimplemented): etcd's client API was not reached.
            return new EtcdUnavailableException(EtcdException.UnavailableCode, Unreachable(endpoints, cause), e);
        }
        string detail = e.Status.Detail;
        return e.StatusCode switch
        {
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new EtcdAccessDeniedException(code, detail, e),
            // etcd answers a wrong or missing user name and password with InvalidArgument or FailedPrecondition.
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition when IsAuthRefusal(detail) => new EtcdAccessDeniedException(code, detail, e),
            StatusCode.NotFound => new EtcdNotFoundException(code, detail, e),
            StatusCode.OutOfRange => new WatchCompactedException(code, detail, e),
            // No leader, no answer in time, the stream or connection cut under the call, too many requests.
            StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.Cancelled or
                StatusCode.Internal or StatusCode.Unknown or StatusCode.ResourceExhausted => new EtcdUnavailableException(code, detail, e),
            _ => new EtcdRejectedException(code, detail, e),
        };
    }

    /// <summary>A watch that etcd canceled (its reason as etcd gave it): refused access, or anything a new watch may not meet.</summary>
    public static EtcdException WatchCanceled(string reason)
    {
        string detail = $"watch canceled by etcd: {reason}";
        return IsAuthRefusal(reason) || reason.Contains("auth", StringComparison.OrdinalIgnoreCase)
            ? new EtcdAccessDeniedException("Aborted", detail, null)
            : new EtcdUnavailableException("Aborted", detail, null);
    }

    /// <summary>
    /// A call that failed because its HTTP/2 connection was aborted under it (its keepalive pings went unanswered:
    /// etcd frozen, or the path gone), which gRPC reports as a cancellation that is not the caller's.
    /// </summary>
    public const string ConnectionLost = "the connection to etcd was lost (keepalive pings unanswered)";

    internal const string TlsFailureHint =
        "TLS handshake with etcd failed (check that --etcd-cafile is the CA of etcd's server certificate and that etcd " +
        "trusts the client certificate of --etcd-certfile/--etcd-keyfile): ";

    private static bool IsTlsFailure(RpcException e)
    {
        if (e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal))
        {
            return false;
        }
        for (Exception? x = e.Status.DebugException; x is not null; x = x.InnerException)
        {
            if (x is AuthenticationException || x.GetType().Name.Contains("Ssl", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return e.Status.Detail.Contains("HTTP/2 handshake", StringComparison.Ordinal) ||
               e.Status.Detail.Contains("SSL", StringComparison.Ordinal);
    }

    // etcd's texts for refused credentials and permissions (etcdserver/api/v3rpc/rpctypes).
    private static readonly string[] AuthRefusals =
    [
        "permission denied", "user name is empty", "user name not found", "authentication failed",
        "invalid auth token", "authentication is not enabled",
    ];

    private static bool IsAuthRefusal(string detail) =>
        AuthRefusals.Any(r => detail.Contains(r, StringComparison.OrdinalIgnoreCase));

    /// <summary>"cannot reach etcd at A, B: cause", the text that replaces gRPC's detail of a failed connection.</summary>
    public static string Unreachable(IReadOnlyList<string> endpoints, string cause) =>
        $"cannot reach etcd at {string.Join(", ", endpoints)}: {cause}";

    private static string Socket(SocketException s) => s.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (is etcd running, and listening on that address and port?)",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to host",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host name not found",
        SocketError.ConnectionReset => "connection reset by the server",
        SocketError.AccessDenied => "connection not permitted (a firewall rule?)",
        _ => Trim(s.Message).ToLowerInvariant(),
    };

    private static string Trim(string s) => s.TrimEnd('.', ' ');
}
