using System.Threading.Channels;

namespace Flannel.Backends;

/// <summary>
/// "Reconcile now": raised by kernel events (an entry of ours deleted, a device gone, events lost) and by the daemon
/// (the external interface changed); any number of raises before the loop wakes count as one. The loop also wakes on
/// its timer, the fallback when an event never comes.
/// </summary>
internal sealed class ReconcileSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Raise() => _channel.Writer.TryWrite(true);

    /// <summary>Completes when raised; the raise is consumed by <see cref="Consume"/>.</summary>
    public Task<bool> WaitAsync(CancellationToken ct) => _channel.Reader.WaitToReadAsync(ct).AsTask();

    public void Consume() => _channel.Reader.TryRead(out _);
}
