namespace Flannel.Subnet.Leases;

/// <summary>
/// The last known leases, turning snapshots and single changes into added/removed events (flannel's
/// <c>LeaseWatcher</c>). A removal carries the attrs last seen, so a backend can delete what it programmed.
/// </summary>
internal sealed class LeaseCache
{
    private readonly Dictionary<SubnetKey, Lease> _leases = [];
    private readonly Func<SubnetKey, bool> _include;

    public LeaseCache(Func<SubnetKey, bool> include) => _include = include;

    public IReadOnlyCollection<Lease> Leases => _leases.Values;

    /// <summary>Replaces the whole set with a snapshot and returns the differences.</summary>
    public List<LeaseEvent> Reset(IEnumerable<Lease> snapshot)
    {
        var events = new List<LeaseEvent>();
        var seen = new HashSet<SubnetKey>();
        foreach (var lease in snapshot)
        {
            if (!_include(lease.Key))
            {
                continue;
            }
            seen.Add(lease.Key);
            Put(lease, events);
        }
        foreach (var gone in _leases.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            events.Add(new LeaseEvent(LeaseEventKind.Removed, _leases[gone]));
            _leases.Remove(gone);
        }
        return events;
    }

    /// <summary>Applies a put: an event only when the lease is new or its published content changed.</summary>
    public void Put(Lease lease, List<LeaseEvent> events)
    {
        if (!_include(lease.Key))
        {
            return;
        }
        if (!_leases.TryGetValue(lease.Key, out var old) || !old.SameContent(lease))
        {
            events.Add(new LeaseEvent(LeaseEventKind.Added, lease));
        }
        _leases[lease.Key] = lease;
    }

    public void Delete(SubnetKey key, List<LeaseEvent> events)
    {
        if (_leases.Remove(key, out var old))
        {
            events.Add(new LeaseEvent(LeaseEventKind.Removed, old));
        }
    }
}
