using System.Globalization;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// etcd frozen (SIGSTOP: connections hang, as in a partition) for 60 s while containers on two hosts ping each other
/// ten times a second: nothing lost, the daemons stay up, /healthz names the etcd connection while it is down and
/// recovers, and the peer watch resumes without a restart. One class per backend so they run in parallel.
/// </summary>
public abstract class EtcdOutageEndToEndTests(ITestOutputHelper output)
{
    private const int HealthPort = 10254;

    protected async Task Run(string backend, string network)
    {
        await using var bed = await Testbed.CreateAsync();
        string[] health = ["--healthz-ip", "127.0.0.1", "--healthz-port", HealthPort.ToString(CultureInfo.InvariantCulture)];
        var (_, prefix, h1, _, d1, d2, _, _, c1, _, _, a2) = await TwoHosts.StartAsync(bed, $"/outage-{backend}/network", backend, network, health);
        Assert.True(Testbed.Ping(c1, a2), "c1 -> c2 before the outage");
        string last = "";
        try
        {
            await Wait.UntilAsync(() => (last = Healthz(h1)).StartsWith("HTTP/1.1 200", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "healthy");
        }
        catch (TimeoutException)
        {
            Assert.Fail("not healthy before the outage: " + last);
        }

        var monitor = PingMonitor.Start(bed, c1, a2, TimeSpan.FromSeconds(75));
        await Task.Delay(5000);
        string etcdPid = bed.EtcdProcess!.Id.ToString(CultureInfo.InvariantCulture);
        Command.Run("kill", "-STOP", etcdPid);
        string during;
        try
        {
            await Wait.UntilAsync(() => Healthz(h1).Contains("etcd-connection", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
                "/healthz names the etcd connection");
            during = Healthz(h1);
            await Task.Delay(TimeSpan.FromSeconds(60) - TimeSpan.FromSeconds(1));
            Assert.False(d1.Process.HasExited || d2.Process.HasExited,
                $"a daemon exited during the outage\nhost 1:\n{bed.LogOf(d1.Process)}\nhost 2:\n{bed.LogOf(d2.Process)}");
        }
        finally
        {
            Command.Run("kill", "-CONT", etcdPid);
        }
        await Wait.UntilAsync(() => Healthz(h1).StartsWith("HTTP/1.1 200", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            "/healthz recovers after etcd is back");

        // The watch resumed: a new peer's lease is seen without a restart.
        bed.Etcdctl(true, "put", $"{prefix}/subnets/{network.Split('.')[0]}.{network.Split('.')[1]}.250.0-24",
            "{\"PublicIP\":\"198.51.100.77\",\"PublicIPv6\":null,\"BackendType\":\"" + backend + "\"" +
            (backend == "vxlan" ? ",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:00:77\"}" : "") + "}");
        await Wait.UntilAsync(() => bed.LogOf(d1.Process).Contains("198.51.100.77", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            "host 1 sees a peer added after the outage");

        var (sent, received) = await monitor.ResultAsync();
        output.WriteLine($"{backend}: etcd frozen 60 s: {sent} echoes, {sent - received} lost; /healthz during the outage:\n{during}");
        Assert.Equal(0, sent - received);
        Assert.Equal(0, await d1.StopAsync());
        Assert.Equal(0, await d2.StopAsync());
    }

    private static string Healthz(string hostNs) => HealthHttp.Get(hostNs, HealthPort, "/healthz");
}

[NeedsRoot, NeedsEtcd]
public sealed class EtcdOutageVxlanTests(ITestOutputHelper output) : EtcdOutageEndToEndTests(output)
{
    [Fact]
    public Task Vxlan_keeps_forwarding_through_a_60_s_etcd_outage() => Run("vxlan", "10.94.0.0/16");
}

[NeedsRoot, NeedsEtcd]
public sealed class EtcdOutageHostGwTests(ITestOutputHelper output) : EtcdOutageEndToEndTests(output)
{
    [Fact]
    public Task HostGw_keeps_forwarding_through_a_60_s_etcd_outage() => Run("host-gw", "10.95.0.0/16");
}

[NeedsRoot, NeedsEtcd]
public sealed class EtcdOutageUdpTests(ITestOutputHelper output) : EtcdOutageEndToEndTests(output)
{
    [Fact]
    public Task Udp_keeps_forwarding_through_a_60_s_etcd_outage() => Run("udp", "10.96.0.0/16");
}
