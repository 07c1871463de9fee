using Flannel.Subnet.Etcd;
using Microsoft.Extensions.Hosting;

namespace Flannel.Daemon.Health;

/// <summary>
/// The etcd connection as a health entry: a cheap read of the network config every 5 s (3 s timeout). While etcd is
/// unreachable the entry goes stale, so /healthz answers 503 naming "etcd-connection" (the data path keeps working:
/// nothing in the kernel depends on etcd), and it recovers with the first successful read.
/// </summary>
internal sealed class EtcdProbe(ISubnetRegistry registry, LoopHealthRegistry health) : BackgroundService
{
    public const string Name = "etcd-connection";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(12);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                await registry.GetNetworkConfigAsync(attempt.Token).ConfigureAwait(false);
                health.Report(Name, Bound);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: the call ends however the client ends it (an RpcException "gRPC call disposed" when the
                // connection is disposed under it, seen as a "BackgroundService failed" error at SIGTERM).
                return;
            }
            catch (Exception)
            {
                // Unreachable or refused: the entry goes stale by itself after its bound.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
