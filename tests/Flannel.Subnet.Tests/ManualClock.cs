using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Flannel.Subnet.Tests;

/// <summary>
/// A fake clock that knows which timers the code under test has armed, so a test moves time on exactly when the code
/// waits: time advanced before the code arms its timer would be missed (the code would then wait from the new now).
/// </summary>
internal sealed class ManualClock : FakeTimeProvider
{
    private static readonly TimeSpan RealTimeout = TimeSpan.FromSeconds(15);
    private readonly Lock _lock = new();
    private readonly List<Armed> _timers = [];
    private TaskCompletionSource _changed = NewSignal();

    // Near the real time, so the expirations in etcd's terms and in the log lines read sensibly.
    public ManualClock() : base(DateTimeOffset.UtcNow)
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var armed = new Armed(this);
        var now = GetUtcNow();
        armed.Inner = base.CreateTimer(s =>
        {
            armed.Fired();
            callback(s);
        }, state, dueTime, period);
        // Shown as armed only once the fake timer exists: a test that advanced before would be missed by it.
        armed.Apply(dueTime, period, now, firesBefore: 0);
        return armed;
    }

    /// <summary>Waits (in real time, bounded) until <paramref name="count"/> timers are armed to fire <paramref name="due"/> from now.</summary>
    public async Task WhenArmedAsync(TimeSpan due, string what, int count = 1)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(RealTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var now = GetUtcNow();
            Task changed;
            lock (_lock)
            {
                if (_timers.Count(t => t.DueAt - now == due) >= count)
                {
                    return;
                }
                changed = _changed.Task;
            }
            var left = TimeSpan.FromSeconds((double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
            if (left <= TimeSpan.Zero || !await changed.WaitAsync(left).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
            {
                throw new TimeoutException($"no {count} timer(s) armed for {due} within {RealTimeout.TotalSeconds} s: {what}; armed: {Pending(now)}");
            }
        }
    }

    /// <summary>Waits until a timer for <paramref name="due"/> is armed, then moves time on by that much.</summary>
    public async Task AdvanceWhenArmedAsync(TimeSpan due, string what)
    {
        await WhenArmedAsync(due, what);
        Advance(due);
    }

    private string Pending(DateTimeOffset now)
    {
        lock (_lock)
        {
            var due = _timers.Where(t => t.DueAt is not null).Select(t => (t.DueAt!.Value - now).ToString()).ToList();
            return due.Count == 0 ? "none" : string.Join(", ", due);
        }
    }

    private void Changed()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One timer of the code under test and when it fires next (null: not armed).</summary>
    private sealed class Armed(ManualClock clock) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private long _fires;
        private bool _disposed;

        public ITimer Inner { get; set; } = null!;
        public DateTimeOffset? DueAt { get; private set; }

        /// <summary>Records the timer as armed at <paramref name="armedAt"/>, unless it fired meanwhile (a due time of zero).</summary>
        public void Apply(TimeSpan dueTime, TimeSpan period, DateTimeOffset armedAt, long firesBefore)
        {
            lock (clock._lock)
            {
                _period = period;
                if (_fires == firesBefore)
                {
                    DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : armedAt + dueTime;
                }
                if (!_disposed && !clock._timers.Contains(this))
                {
                    clock._timers.Add(this);
                }
            }
            clock.Changed();
        }

        public void Fired()
        {
            lock (clock._lock)
            {
                _fires++;
                DueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : DueAt + _period;
            }
            clock.Changed();
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            long fires;
            lock (clock._lock)
            {
                if (_disposed)
                {
                    return false;
                }
                fires = _fires;
            }
            var now = clock.GetUtcNow();
            bool changed = Inner.Change(dueTime, period);
            Apply(dueTime, period, now, fires);
            return changed;
        }

        public void Dispose()
        {
            lock (clock._lock)
            {
                _disposed = true;
                clock._timers.Remove(this);
            }
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
