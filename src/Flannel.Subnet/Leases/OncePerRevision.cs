namespace Flannel.Subnet.Leases;

/// <summary>
/// Remembers which (key, revision) a warning was given for, so a bad lease is reported once and not again at every
/// listing, resync or by every watch loop that sees it; a new revision of the key is reported again. One entry per key.
/// </summary>
internal sealed class OncePerRevision
{
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>True the first time (<paramref name="key"/>, <paramref name="revision"/>) is seen.</summary>
    public bool FirstTime(string key, long revision)
    {
        lock (_lock)
        {
            if (_seen.TryGetValue(key, out var last) && last == revision)
            {
                return false;
            }
            _seen[key] = revision;
            return true;
        }
    }
}
