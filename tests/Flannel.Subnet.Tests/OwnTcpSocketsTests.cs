using System.Net;
using System.Net.Sockets;
using Flannel.Subnet.Etcd;

namespace Flannel.Subnet.Tests;

[Unit]
public class OwnTcpSocketsTests
{
    [Fact]
    public void Addresses_are_written_as_the_kernel_prints_them()
    {
        Assert.True(BitConverter.IsLittleEndian, "the expected texts are those of a little-endian CPU");
        Assert.Equal("016433C6", OwnTcpSockets.ProcFormat(IPAddress.Parse("198.51.100.1")));
        Assert.Equal("0000000000000000FFFF0000016433C6", OwnTcpSockets.ProcFormat(IPAddress.Parse("198.51.100.1").MapToIPv6()));
    }

    [Fact]
    public void Only_sockets_bound_to_the_address_are_picked()
    {
        const string table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 016433C6:9C40 FE6433C6:094B 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000 20 4 30 10 -1
               1: 026433C6:9C41 FE6433C6:094B 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000 20 4 30 10 -1
               2: 016433C6:9C42 FE6433C6:094B 06 00000000:00000000 00:00000000 00000000     0        0 0 1 0000 20 4 30 10 -1
            """;
        Assert.Equal([4242L], OwnTcpSockets.InodesFrom(IPAddress.Parse("198.51.100.1"), table));
    }

    [Fact]
    public void A_connection_of_this_process_from_the_address_is_shut_down_and_others_are_left()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // Dual-stack, like gRPC's (listed in tcp6), and from an address of its own: the test host talks to its runner
        // over loopback too, and those connections must live.
        var own = IPAddress.Parse("127.0.0.77");
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        client.Bind(new IPEndPoint(own.MapToIPv6(), 0));
        client.Connect(IPAddress.Loopback, port);
        using var accepted = listener.AcceptSocket();

        Assert.Equal(0, OwnTcpSockets.ShutDownFrom(IPAddress.Parse("198.51.100.1")));
        Assert.Equal(1, OwnTcpSockets.ShutDownFrom(own));
        // The peer sees the connection end: a read returns 0 bytes.
        accepted.ReceiveTimeout = 5000;
        Assert.Equal(0, accepted.Receive(new byte[1]));
    }
}
