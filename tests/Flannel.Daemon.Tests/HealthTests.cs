using System.Net;
using Flannel.Daemon.Health;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Daemon.Tests;

[Unit]
public class HealthTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_loop_is_stale_once_its_bound_passes_and_expected_loops_count_once_ready()
    {
        var time = new ManualTime();
        var h = new LoopHealthRegistry(time, "backend", "peer-watch");
        Assert.Empty(h.StaleLoops()); // not ready: nothing expected yet
        h.Report("backend", TimeSpan.FromSeconds(30));
        h.MarkReady();
        Assert.Equal(["peer-watch (never reported)"], h.StaleLoops());
        h.Report("peer-watch", TimeSpan.FromMinutes(6));
        Assert.Empty(h.StaleLoops());
        time.Now += TimeSpan.FromSeconds(31);
        var stale = Assert.Single(h.StaleLoops());
        Assert.StartsWith("backend (last report 31 s ago, bound 30 s)", stale, StringComparison.Ordinal);
        h.Report("backend", TimeSpan.FromSeconds(30));
        Assert.Empty(h.StaleLoops());
    }

    [Fact]
    public async Task Healthz_and_readyz_answer_over_http()
    {
        var time = new ManualTime();
        var registry = new LoopHealthRegistry(time, "backend");
        int port = EtcdServer.FreePort();
        using var server = new HealthServer(registry, NullLogger<HealthServer>.Instance, "127.0.0.1", port);
        using var cts = new CancellationTokenSource();
        await server.StartAsync(cts.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("flanneld is not ready yet\n", await ready.Content.ReadAsStringAsync());

            registry.Report("backend", TimeSpan.FromSeconds(30));
            registry.MarkReady();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
            var ok = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("flanneld is running\n", await ok.Content.ReadAsStringAsync());

            time.Now += TimeSpan.FromMinutes(1);
            var stale = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stale.StatusCode);
            Assert.Contains("backend", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await server.StopAsync(CancellationToken.None);
        }
    }
}
