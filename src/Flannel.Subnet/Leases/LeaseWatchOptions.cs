namespace Flannel.Subnet.Leases;

public sealed record LeaseWatchOptions
{
    /// <summary>How often the whole set is listed again and diffed, to repair anything a watch could have missed.</summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Told after every listing and every watch response.</summary>
    public ILoopHealth Health { get; init; } = NullLoopHealth.Instance;

    /// <summary>The name the loop reports its health under.</summary>
    public string HealthName { get; init; } = "lease-watch";

    /// <summary>The clock of the resync and the backoff (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
