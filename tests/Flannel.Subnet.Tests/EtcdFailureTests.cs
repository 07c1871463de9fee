using System.Net.Sockets;
using Flannel.Subnet.Etcd;
using Grpc.Core;

namespace Flannel.Subnet.Tests;

/// <summary>Which failed etcd calls are connection failures, and the cause an operator reads for each.</summary>
[Unit]
public class EtcdFailureTests
{
    private static RpcException Rpc(StatusCode code, string detail, Exception? debug = null) => new(new Status(code, detail, debug));

    [Theory]
    [InlineData(SocketError.ConnectionRefused, "connection refused (is etcd running, and listening on that address and port?)")]
    [InlineData(SocketError.HostUnreachable, "no route to host")]
    [InlineData(SocketError.NetworkUnreachable, "no route to host")]
    [InlineData(SocketError.TimedOut, "connection timed out")]
    [InlineData(SocketError.HostNotFound, "host name not found")]
    public void A_socket_error_under_grpc_is_named_as_the_network_said_it(SocketError error, string cause) =>
        Assert.Equal(cause, EtcdFailure.ConnectCause(Rpc(StatusCode.Unavailable, "Error connecting to subchannel.",
            new HttpRequestException("wrapped", new SocketException((int)error)))));

    [Fact]
    public void A_tls_failure_is_named_as_one() =>
        Assert.Equal("the TLS handshake failed: bad certificate", EtcdFailure.ConnectCause(Rpc(StatusCode.Unavailable,
            "Error connecting to subchannel.", new System.Security.Authentication.AuthenticationException("bad certificate"))));

    [Fact]
    public void Something_that_speaks_http_but_not_etcd_is_said_to_be_the_wrong_endpoint() =>
        Assert.Equal("the endpoint answered HTTP, but is not etcd's client API (Bad gRPC response. HTTP status code: 404); " +
                     "check the address and port (etcd's client port is 2379)",
            EtcdFailure.ConnectCause(Rpc(StatusCode.Unimplemented, "Bad gRPC response. HTTP status code: 404")));

    [Theory]
    [InlineData(StatusCode.Unavailable, "etcdserver: no leader")] // etcd answered: it was reached
    [InlineData(StatusCode.PermissionDenied, "etcdserver: permission denied")]
    [InlineData(StatusCode.Unimplemented, "unknown service")]
    public void Answers_from_etcd_are_not_connection_failures(StatusCode code, string detail) =>
        Assert.Null(EtcdFailure.ConnectCause(Rpc(code, detail)));

    [Theory]
    [InlineData(StatusCode.Unavailable, "etcdserver: no leader", typeof(EtcdUnavailableException), "etcdserver: no leader")]
    [InlineData(StatusCode.DeadlineExceeded, "etcdserver: request timed out", typeof(EtcdUnavailableException), "DeadlineExceeded: etcdserver: request timed out")]
    [InlineData(StatusCode.PermissionDenied, "etcdserver: permission denied", typeof(EtcdAccessDeniedException), "PermissionDenied: etcdserver: permission denied")]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: user name is empty", typeof(EtcdAccessDeniedException), "InvalidArgument: etcdserver: user name is empty")]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password", typeof(EtcdAccessDeniedException), "InvalidArgument: etcdserver: authentication failed, invalid user ID or password")]
    [InlineData(StatusCode.InvalidArgument, "etcdserver: key is not provided", typeof(EtcdRejectedException), "InvalidArgument: etcdserver: key is not provided")]
    [InlineData(StatusCode.NotFound, "etcdserver: requested lease not found", typeof(EtcdNotFoundException), "NotFound: etcdserver: requested lease not found")]
    [InlineData(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted", typeof(WatchCompactedException), "OutOfRange: etcdserver: mvcc: required revision has been compacted")]
    public void Answers_from_etcd_become_the_etcd_layers_exceptions_with_the_operators_text(StatusCode code, string detail, Type type, string message)
    {
        var e = EtcdFailure.ToException(Rpc(code, detail), ["http://198.51.100.1:2379"], useTls: false);
        Assert.IsType(type, e);
        Assert.Equal(message, e.Message);
        Assert.Equal(code.ToString(), e.Code);
        Assert.Equal(type == typeof(EtcdUnavailableException), e.IsTransient);
    }

    [Fact]
    public void A_failed_connection_is_unavailable_and_names_the_endpoints_and_the_cause()
    {
        var e = EtcdFailure.ToException(Rpc(StatusCode.Unavailable, "Error connecting to subchannel.",
            new HttpRequestException("wrapped", new SocketException((int)SocketError.ConnectionRefused))), ["http://198.51.100.1:2379"], useTls: false);
        Assert.IsType<EtcdUnavailableException>(e);
        Assert.Equal("cannot reach etcd at http://198.51.100.1:2379: connection refused (is etcd running, and listening on that address and port?)", e.Message);
        Assert.Equal(e.Message, e.Describe("etcd at http://198.51.100.1:2379")); // the detail says where: nothing added
    }

    [Fact]
    public void A_tls_failure_with_tls_on_says_which_flags_to_check()
    {
        var e = EtcdFailure.ToException(Rpc(StatusCode.Unavailable, "Error connecting to subchannel.",
            new System.Security.Authentication.AuthenticationException("bad certificate")), ["https://198.51.100.1:2379"], useTls: true);
        Assert.IsType<EtcdTlsException>(e);
        Assert.StartsWith("TLS handshake with etcd failed (check that --etcd-cafile is the CA", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("): the TLS handshake failed: bad certificate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_answer_that_does_not_say_where_gets_the_endpoints_before_its_code() =>
        Assert.Equal("etcd at http://e:2379: PermissionDenied: etcdserver: permission denied",
            EtcdFailure.ToException(Rpc(StatusCode.PermissionDenied, "etcdserver: permission denied"), ["http://e:2379"], false).Describe("etcd at http://e:2379"));

    [Theory]
    [InlineData("etcdserver: permission denied", typeof(EtcdAccessDeniedException))]
    [InlineData("etcdserver: invalid auth token", typeof(EtcdAccessDeniedException))]
    [InlineData("etcdserver: no leader", typeof(EtcdUnavailableException))]
    public void A_watch_canceled_by_etcd_keeps_its_reason(string reason, Type type)
    {
        var e = EtcdFailure.WatchCanceled(reason);
        Assert.IsType(type, e);
        Assert.Equal($"Aborted: watch canceled by etcd: {reason}", e.Message);
    }

    [Fact]
    public void The_text_names_every_endpoint_tried() =>
        Assert.Equal("cannot reach etcd at http://198.51.100.1:2379, http://198.51.100.2:2379: no route to host",
            EtcdFailure.Unreachable(["http://198.51.100.1:2379", "http://198.51.100.2:2379"], "no route to host"));
}
