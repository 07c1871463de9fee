namespace Flannel.Subnet.Leases;

public sealed record LeaseManagerOptions
{
    /// <summary>flannel's subnetTTL: every lease is an etcd lease of this length.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary><c>--subnet-lease-renew-margin</c>: renew this long before expiry.</summary>
    public TimeSpan RenewMargin { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>After a failed renewal (flanneld: one minute).</summary>
    public TimeSpan RenewRetry { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Waits before the quick renewal attempts that follow a failed one, before it counts as failed and waits
    /// <see cref="RenewRetry"/>: an etcd leader election or a member going away fails a call for a second or two.
    /// </summary>
    public IReadOnlyList<TimeSpan> RenewQuickRetries { get; init; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10)];

    /// <summary>
    /// One renewal attempt gives up after this long: a member that stopped answering (frozen, cut off without a TCP
    /// reset) would otherwise hold the renewal for as long as the connection lives.
    /// </summary>
    public TimeSpan RenewAttemptTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan ConfigRetry { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>While the config stays missing, invalid or unreachable, the same problem is logged again this often.</summary>
    public TimeSpan ConfigProblemLogRepeat { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the running daemon reads the config again to report a change (it is never applied live).</summary>
    public TimeSpan ConfigPoll { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times a lost creation race is retried (flannel's raceRetries).</summary>
    public int RaceRetries { get; init; } = 10;

    public LeaseWatchOptions Watch { get; init; } = new();

    public Random Random { get; init; } = Random.Shared;

    public ILoopHealth Health { get; init; } = NullLoopHealth.Instance;

    /// <summary>
    /// The clock of every wait, timeout and timestamp of the lease manager, its watches included (it replaces
    /// <see cref="LeaseWatchOptions.TimeProvider"/>); tests pass a fake one. The registry should stamp expirations
    /// with the same clock.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
