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

    [Fact]
    public void The_text_names_every_endpoint_tried() =>
        Assert.Equal("cannot reach etcd at http://198.51.100.1:2379, http://198.51.100.2:2379: no route to host",
            EtcdFailure.Unreachable(["http://198.51.100.1:2379", "http://198.51.100.2:2379"], "no route to host"));
}
