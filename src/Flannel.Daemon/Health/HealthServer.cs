using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Health;

/// <summary>
/// <c>/healthz</c>: 200 while every loop reports within its bound, else 503 naming the stale loops (flanneld answers a
/// constant 200). <c>/readyz</c>: 200 once subnet.env is written, else 503 (flanneld HEAD's wording). <c>/metrics</c>:
/// the Prometheus text format of every Flannel.* meter (ours; flanneld has none).
/// </summary>
internal sealed class HealthServer : BackgroundService
{
    private readonly LoopHealthRegistry _health;
    private readonly ILogger<HealthServer> _log;
    private readonly HttpListener _listener = new();
    private readonly Metrics.MetricsCollector _metrics = new(); // from construction, before the network service counts anything
    private readonly string _prefix;

    public HealthServer(LoopHealthRegistry health, ILogger<HealthServer> log, string ip, int port)
    {
        _health = health;
        _log = log;
        // HttpListener's managed Unix implementation takes "*" for all addresses.
        string host = ip is "0.0.0.0" or "" ? "*" : ip;
        _prefix = $"http://{host}:{port}/";
        _listener.Prefixes.Add(_prefix);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Start(); // bind now, so a port conflict fails the start
        DaemonLog.HealthListening(_log, _prefix);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var reg = stoppingToken.Register(_listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException e)
            {
                DaemonLog.HealthRequestFailed(_log, e.Message);
                continue;
            }
            Respond(ctx);
        }
    }

    private void Respond(HttpListenerContext ctx)
    {
        const string Text = "text/plain; charset=utf-8";
        (int code, string body, string contentType) = ctx.Request.Url?.AbsolutePath switch
        {
            "/metrics" => (200, _metrics.Render(), Metrics.MetricsCollector.ContentType),
            "/healthz" => _health.StaleLoops() is { Count: > 0 } stale
                ? (503, "flanneld is unhealthy: stale " + string.Join("; ", stale) + "\n", Text)
                : (200, "flanneld is running\n", Text),
            "/readyz" => _health.IsReady ? (200, "flanneld is ready\n", Text) : (503, "flanneld is not ready yet\n", Text),
            _ => (404, "not found: /healthz, /readyz and /metrics are served here\n", Text),
        };
        try
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            ctx.Response.StatusCode = code;
            ctx.Response.ContentType = contentType;
            ctx.Response.ContentLength64 = bytes.Length;
            ctx.Response.OutputStream.Write(bytes);
            ctx.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            DaemonLog.HealthRequestFailed(_log, e.Message);
        }
    }

    public override void Dispose()
    {
        _listener.Close();
        _metrics.Dispose();
        base.Dispose();
    }
}
