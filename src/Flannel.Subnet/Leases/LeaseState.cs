using Flannel.Subnet.Config;

namespace Flannel.Subnet.Leases;

/// <summary>
/// What the parts of the lease manager share: the lease held now, the config and attrs it was acquired with, and the
/// lock that keeps the writes of our key (acquisition, renewal, attrs update, re-acquisition) one at a time.
/// </summary>
internal sealed class LeaseState : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Lease? _current;
    private NetworkConfig? _config;
    private LeaseAttrs? _attrs;

    /// <summary>The lease held now (null before the first acquisition); the watches read it without the lock.</summary>
    public Lease? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }

    /// <summary>The config the lease was acquired under (null before the first acquisition).</summary>
    public NetworkConfig? Config
    {
        get => Volatile.Read(ref _config);
        set => Volatile.Write(ref _config, value);
    }

    /// <summary>What our lease publishes (null before the first acquisition); renewals and re-acquisitions write these.</summary>
    public LeaseAttrs? Attrs
    {
        get => Volatile.Read(ref _attrs);
        set => Volatile.Write(ref _attrs, value);
    }

    /// <summary>Runs <paramref name="write"/> holding the lock: one write of our key at a time.</summary>
    public async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await write().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
