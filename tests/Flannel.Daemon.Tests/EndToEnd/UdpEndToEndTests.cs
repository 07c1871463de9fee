using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Flannel.Backends.Packets;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The udp backend between two simulated hosts running the published flanneld against a real etcd: the device and
/// lease as flanneld makes them, containers pinging both ways, 100 MB of TCP arriving intact while hostile datagrams
/// and unroutable packets flood the pumps, and flanneld's wire format checked against a stand-in flanneld peer that
/// speaks the raw protocol. Needs root (CI runs as root): without it the test fails.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class UdpEndToEndTests(ITestOutputHelper output)
{
    private const string Prefix = "/e2e-udp/network";
    private const int Port = 8285;

    [Fact]
    public async Task Udp_backend_carries_container_traffic_intact_under_hostile_input_on_flanneld_wire_format()
    {
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", Prefix + "/config", """{"Network":"10.60.0.0/16","Backend":{"Type":"udp"}}""");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2), fakePeer = bed.AddHost(3), attacker = bed.AddHost(9);

        var d1 = TestDaemon.Start(bed, h1, Prefix);
        var d2 = TestDaemon.Start(bed, h2, Prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        string net1 = TestDaemon.NetworkOf(env1["FLANNEL_SUBNET"]), net2 = TestDaemon.NetworkOf(env2["FLANNEL_SUBNET"]);
        output.WriteLine($"host 1 {net1}, host 2 {net2}");

        // Device, route and lease exactly as flanneld's udp backend makes them (compat §6, §1.2).
        Assert.Equal("1472", env1["FLANNEL_MTU"]);
        string device = Testbed.Ip(h1, "-d", "-br", "addr", "show", "flannel0");
        Assert.Contains(net1.Split('/')[0] + "/32", device, StringComparison.Ordinal);
        Assert.Contains("dev flannel0", Testbed.Ip(h1, "route", "show", "10.60.0.0/16"), StringComparison.Ordinal);
        Assert.Contains("mtu 1472", Testbed.Ip(h1, "link", "show", "flannel0"), StringComparison.Ordinal);
        string lease = bed.Etcdctl(true, "get", "--print-value-only", $"{Prefix}/subnets/{net1.Replace('/', '-')}").Stdout.Trim();
        Assert.Equal("""{"PublicIP":"198.51.100.1","PublicIPv6":null}""", lease);

        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], 1472);
        string c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], 1472);
        string a1 = Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), a2 = Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]);
        Assert.True(Testbed.Ping(c1, a2), $"container 1 -> container 2 ({a2})\n{Testbed.Diagnose(h1, c1)}\n{bed.LogOf(d1.Process)}\n{bed.LogOf(d2.Process)}");
        Assert.True(Testbed.Ping(c2, a1), $"container 2 -> container 1 ({a1})\n{bed.LogOf(d2.Process)}");

        await CheckWireFormatAgainstFakeFlanneldPeerAsync(bed, fakePeer, c1, a1);

        // 100 MB container to container while the pumps are flooded from three sides.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = Task.Run(() => NetNs.RunIn(c2, () => ReceiveAndHash(a2, listening)));
        await listening.Task.WaitAsync(cts.Token);
        var flood = Task.Run(() => NetNs.RunIn(attacker, () => FloodWithGarbage(count: 100_000)));
        var spoof = Task.Run(() => NetNs.RunIn(h1, () => SendSpoofedInnerSources(a2, count: 1_000)));
        var unroutable = Task.Run(() => NetNs.RunIn(h1, () => SendUnroutable(count: 5_000)));
        var sender = Task.Run(() => NetNs.RunIn(c1, () => SendAndHash(a2, 100 << 20)));
        var sent = await sender.WaitAsync(cts.Token);
        var received = await receiver.WaitAsync(cts.Token);
        await Task.WhenAll(flood, spoof, unroutable).WaitAsync(cts.Token);
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(received));

        Assert.False(d1.Process.HasExited || d2.Process.HasExited, "a daemon died under hostile input");
        Assert.True(Testbed.Ping(c1, a2), "ping after the flood");
        Assert.True(Testbed.Ping(c2, a1), "ping back after the flood");

        // The drops are counted by reason and reported (every 10 s when they move).
        await Wait.UntilAsync(() => DropsLogged(bed, d2, "unknown-peer", "too-short", "spoofed-source"), TimeSpan.FromSeconds(25),
            "host 2 logs its drops by reason");
        await Wait.UntilAsync(() => DropsLogged(bed, d1, "no-route"), TimeSpan.FromSeconds(25), "host 1 logs unroutable drops");
        output.WriteLine(bed.LogOf(d2.Process).Split('\n').Last(l => l.Contains("dropped since start", StringComparison.Ordinal)));

        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    private static bool DropsLogged(Testbed bed, TestDaemon d, params string[] reasons) =>
        bed.LogOf(d.Process).Split('\n').Any(l => l.Contains("dropped since start", StringComparison.Ordinal) &&
                                                  reasons.All(r => l.Contains(r, StringComparison.Ordinal)));

    /// <summary>
    /// A flanneld host is simulated by a lease plus a plain UDP socket on port 8285: what our daemon sends it must be
    /// exactly one inner IPv4 packet per datagram, TTL decremented, from port 8285; what it sends back in that format
    /// must reach our container.
    /// </summary>
    private async Task CheckWireFormatAgainstFakeFlanneldPeerAsync(Testbed bed, string fakePeer, string c1, string a1)
    {
        bed.Etcdctl(true, "put", $"{Prefix}/subnets/10.60.250.0-24", """{"PublicIP":"198.51.100.3","PublicIPv6":null}""");
        using var peerSocket = NetNs.RunIn(fakePeer, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse("198.51.100.3"), Port));
            s.ReceiveTimeout = 1000;
            return s;
        });
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int length = 0;
        // The peer's lease reaches host 1 through the watch: keep poking until a datagram arrives.
        await Wait.UntilAsync(() =>
        {
            Testbed.Exec(c1, ["ping", "-c", "1", "-W", "1", "10.60.250.5"], check: false);
            try
            {
                length = peerSocket.ReceiveFrom(buffer, ref from);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "a datagram from host 1 at the stand-in flanneld peer");
        var packet = buffer.AsSpan(0, length);
        Assert.Equal("198.51.100.1:8285", from.ToString());
        Assert.Equal(0x45, packet[0]);
        Assert.Equal(length, BinaryPrimitives.ReadUInt16BigEndian(packet[2..]));   // one whole packet, nothing else
        Assert.Equal(Ipv4Header.ProtocolIcmp, packet[9]);
        Assert.Equal(a1, new IPAddress(packet.Slice(12, 4)).ToString());
        Assert.Equal("10.60.250.5", new IPAddress(packet.Slice(16, 4)).ToString());
        Assert.Equal(62, packet[8]);                                               // 64, -1 forwarding, -1 the pump
        Assert.Equal(0, InternetChecksum.Compute(packet[..20]));

        // And back: a UDP packet 10.60.250.5 -> container 1, as flanneld would send it.
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var got = Task.Run(() => NetNs.RunIn(c1, () =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(a1), 7777));
            s.ReceiveTimeout = 10_000;
            listening.SetResult();
            var b = new byte[100];
            EndPoint src = new IPEndPoint(IPAddress.Any, 0);
            int n = s.ReceiveFrom(b, ref src);
            return (src.ToString(), Encoding.ASCII.GetString(b, 0, n));
        }));
        await listening.Task;
        byte[] inner = BuildUdp("10.60.250.5", a1, 4000, 7777, Encoding.ASCII.GetBytes("hello from flanneld"), ttl: 64);
        peerSocket.SendTo(inner, new IPEndPoint(IPAddress.Parse("198.51.100.1"), Port));
        var (source, text) = await got.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("10.60.250.5:4000", source);
        Assert.Equal("hello from flanneld", text);
        output.WriteLine("stand-in flanneld peer: datagrams both ways in flanneld's format");
        bed.Etcdctl(true, "del", $"{Prefix}/subnets/10.60.250.0-24");
    }

    private static byte[] ReceiveAndHash(string address, TaskCompletionSource listening)
    {
        var listener = new TcpListener(IPAddress.Parse(address), 5001);
        listener.Start();
        listening.SetResult();
        using var socket = listener.AcceptSocket();
        listener.Stop();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
        }
        return sha.GetHashAndReset();
    }

    private static byte[] SendAndHash(string address, int bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Parse(address), 5001);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(42);
        var chunk = new byte[1 << 16];
        for (int left = bytes; left > 0; left -= chunk.Length)
        {
            random.NextBytes(chunk);
            int n = Math.Min(left, chunk.Length);
            sha.AppendData(chunk, 0, n);
            socket.Send(chunk, 0, n, SocketFlags.None);
        }
        socket.Shutdown(SocketShutdown.Send);
        // Wait for the receiver's close so every byte was taken before the hashes are compared.
        while (socket.Receive(chunk) > 0)
        {
        }
        return sha.GetHashAndReset();
    }

    /// <summary>Random, truncated, oversized and plausible-looking datagrams from an address no lease has.</summary>
    private static int FloodWithGarbage(int count)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var target = new IPEndPoint(IPAddress.Parse("198.51.100.2"), Port);
        var random = new Random(7);
        var buffer = new byte[9000];
        for (int i = 0; i < count; i++)
        {
            int n = i % 100 == 0 ? 9000 : random.Next(0, 1500);
            random.NextBytes(buffer.AsSpan(0, n));
            if (i % 3 == 0 && n >= 20)
            {
                buffer[0] = 0x45; // looks like IPv4 so it gets past the first checks
            }
            s.SendTo(buffer, 0, n, SocketFlags.None, target);
        }
        return count;
    }

    /// <summary>From host 1's own address (a known peer), inner packets claiming a source outside host 1's subnet.</summary>
    private static int SendSpoofedInnerSources(string destination, int count)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 0));
        var target = new IPEndPoint(IPAddress.Parse("198.51.100.2"), Port);
        byte[] packet = BuildUdp("10.99.1.1", destination, 1234, 5678, new byte[32], ttl: 64);
        for (int i = 0; i < count; i++)
        {
            s.SendTo(packet, target);
        }
        return count;
    }

    /// <summary>Packets into the TUN for addresses of the Network no lease holds: dropped with ICMP net-unreachable.</summary>
    private static int SendUnroutable(int count)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var random = new Random(9);
        var payload = new byte[64];
        for (int i = 0; i < count; i++)
        {
            var address = new IPAddress([10, 60, (byte)random.Next(200, 250), (byte)random.Next(1, 255)]);
            s.SendTo(payload, new IPEndPoint(address, 9));
        }
        return count;
    }

    private static byte[] BuildUdp(string source, string destination, ushort sourcePort, ushort destinationPort, byte[] payload, byte ttl)
    {
        var p = new byte[28 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = ttl;
        p[9] = Ipv4Header.ProtocolUdp;
        IPAddress.Parse(source).TryWriteBytes(p.AsSpan(12, 4), out _);
        IPAddress.Parse(destination).TryWriteBytes(p.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), InternetChecksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(p, 28);
        uint pseudo = InternetChecksum.PseudoHeaderSum(p.AsSpan(12, 8), Ipv4Header.ProtocolUdp, 8 + payload.Length);
        ushort sum = InternetChecksum.Compute(p.AsSpan(20), pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), sum == 0 ? (ushort)0xFFFF : sum);
        return p;
    }
}
