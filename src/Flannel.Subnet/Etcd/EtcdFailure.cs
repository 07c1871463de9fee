using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Core;

namespace Flannel.Subnet.Etcd;

/// <summary>
/// Says why a call to etcd failed in an operator's terms: which endpoints were tried and what the network said
/// ("connection refused", "no route to host", a TLS failure), instead of gRPC's "Error connecting to subchannel."
/// with the real cause hidden in its debug exception.
/// </summary>
public static class EtcdFailure
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
