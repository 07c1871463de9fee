using Flannel.Backends.Netlink;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Interfaces;

/// <summary>
/// Watches the external interface (rtnetlink link and address events, a 10 s look as the fallback) and hands a
/// changed one to the daemon: when it went down and came up, lost its address and got it (or another) back, or was
/// deleted and created again with a new index. flannel's most reported outage is this (#869, #877, #1348: devices
/// gone after <c>systemctl restart networking</c>, NetworkManager, ifdown/ifup), which flanneld fixes only by a restart.
/// </summary>
public sealed class ExternalInterfaceMonitor
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    // Events come in bursts (a flush, an ifup sets the address, the MTU and the link at once): look once the burst ends.
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    private readonly InterfaceOptions _options;
    private readonly IInterfaceSource _host;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ReconcileSignal _signal = new();

    public ExternalInterfaceMonitor(InterfaceOptions options, IInterfaceSource host, TimeProvider time, ILogger log)
    {
        _options = options;
        _host = host;
        _time = time;
        _log = log;
    }

    /// <summary>
    /// Runs until cancelled. <paramref name="onChanged"/> gets the interface to run on now; when it throws (etcd down
    /// while the lease's PublicIP is rewritten, say) the change is tried again at the next event or look.
    /// </summary>
    public async Task RunAsync(ExternalInterface initial, Func<ExternalInterface, CancellationToken, Task> onChanged, CancellationToken ct)
    {
        var running = initial;
        long? lostSince = null;
        bool lostLogged = false;
        using var rtnl = RtnetlinkClient.Open();
        // A dual-stack network runs on the interface's IPv6 address too: its loss is a change like the IPv4 one's.
        using var watcher = NetlinkWatcher.Open(NetlinkGroups.Links | NetlinkGroups.Ipv4Addresses |
            (_options.Ipv6 ? NetlinkGroups.Ipv6Addresses : NetlinkGroups.None));
        var events = WatchAsync(watcher, () => running, () => lostSince ??= _time.GetTimestamp(), ct);
        using var timer = new PeriodicTimer(CheckInterval, _time);
        try
        {
            var tick = timer.WaitForNextTickAsync(ct).AsTask();
            var signal = _signal.WaitAsync(ct);
            while (true)
            {
                var done = await Task.WhenAny(tick, signal).ConfigureAwait(false);
                if (done == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        break;
                    }
                    tick = timer.WaitForNextTickAsync(ct).AsTask();
                }
                else
                {
                    await signal.ConfigureAwait(false);
                    await Task.Delay(Settle, _time, ct).ConfigureAwait(false);
                    _signal.Consume();
                    signal = _signal.WaitAsync(ct);
                }

                var now = ExternalInterfaceCheck.Resolve(_options, _host, running, out string? problem);
                var link = now is null ? null : rtnl.GetLink(now.Index);
                bool up = link is { IsUp: true };
                switch (ExternalInterfaceCheck.Decide(running, now, up, lostSince is not null))
                {
                    case InterfaceVerdict.Lost:
                        lostSince ??= _time.GetTimestamp();
                        if (!lostLogged)
                        {
                            InterfaceLog.Lost(_log, running.Name, problem ?? $"{running.Name} is down");
                            lostLogged = true;
                        }
                        break;
                    case InterfaceVerdict.Changed:
                        var usable = now!;
                        try
                        {
                            await onChanged(usable, ct).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            InterfaceLog.RebuildFailed(_log, usable.Name, e.Message);
                            lostSince ??= _time.GetTimestamp(); // not done: the next look tries again
                            break;
                        }
                        double downMs = lostSince is { } t ? _time.GetElapsedTime(t).TotalMilliseconds : 0;
                        InterfaceLog.Back(_log, usable.Name, usable.Index, usable.Address.ToString(), ExternalInterfaceCheck.Describe(running, usable),
                            lostSince is null ? "no loss seen" : $"unusable for {downMs:F0} ms");
                        BackendMetrics.Recreated("external", usable.Name);
                        running = usable;
                        lostSince = null;
                        lostLogged = false;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await events.ConfigureAwait(false);
    }

    private async Task WatchAsync(NetlinkWatcher watcher, Func<ExternalInterface> running, Action lost, CancellationToken ct)
    {
        try
        {
            await foreach (var e in watcher.ReadEventsAsync(ct).ConfigureAwait(false))
            {
                var r = running();
                bool relevant;
                switch (e)
                {
                    case LinkEvent l when l.Link.Index == r.Index || l.Link.Name == r.Name:
                        if (l.Deleted || !l.Link.IsUp)
                        {
                            lost(); // the kernel drops the routes through it now, not when we next look
                        }
                        relevant = true;
                        break;
                    case AddressEvent a:
                        if (a.Deleted && ExternalInterfaceCheck.IsOurAddress(r, a.Address.LinkIndex, a.Address.Address.Ip))
                        {
                            lost();
                        }
                        relevant = true; // a new address anywhere may be what the selection picks now
                        break;
                    case EventsLost:
                        relevant = true;
                        break;
                    default:
                        relevant = false;
                        break;
                }
                if (relevant)
                {
                    _signal.Raise();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
