using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

[Unit]
public class LeaseCacheTests
{
    private static Lease L(string key, string ip, long rev = 1) =>
        new(SubnetKeyCodec.TryParse(key, out var k) ? k : throw new ArgumentException(key), new LeaseAttrs(Ip4Address.Parse(ip)), 7, rev);

    [Fact]
    public void Reset_diffs_snapshots_and_removals_carry_last_attrs()
    {
        var cache = new LeaseCache(_ => true);
        var first = cache.Reset([L("10.0.1.0-24", "198.51.100.1"), L("10.0.2.0-24", "198.51.100.2")]);
        Assert.Equal(2, first.Count);
        Assert.All(first, e => Assert.Equal(LeaseEventKind.Added, e.Kind));

        var second = cache.Reset([L("10.0.2.0-24", "198.51.100.2", rev: 9), L("10.0.3.0-24", "198.51.100.3")]);
        Assert.Equal(2, second.Count);
        var removed = Assert.Single(second, e => e.Kind == LeaseEventKind.Removed);
        Assert.Equal("198.51.100.1", removed.Lease.Attrs.PublicIP.ToString());
        Assert.Single(second, e => e.Kind == LeaseEventKind.Added && e.Lease.Key.ToString() == "10.0.3.0-24");
    }

    [Fact]
    public void Put_of_unchanged_content_is_not_an_event_but_a_change_is()
    {
        var cache = new LeaseCache(_ => true);
        var events = new List<LeaseEvent>();
        cache.Put(L("10.0.1.0-24", "198.51.100.1"), events);
        cache.Put(L("10.0.1.0-24", "198.51.100.1", rev: 5), events);
        Assert.Single(events);
        cache.Put(L("10.0.1.0-24", "198.51.100.9", rev: 6), events);
        Assert.Equal(2, events.Count);
        cache.Delete(L("10.0.1.0-24", "0.0.0.0").Key, events);
        Assert.Equal("198.51.100.9", events[^1].Lease.Attrs.PublicIP.ToString());
        cache.Delete(L("10.0.1.0-24", "0.0.0.0").Key, events);
        Assert.Equal(3, events.Count);
    }

    [Fact]
    public void Excluded_keys_never_produce_events()
    {
        var own = L("10.0.1.0-24", "198.51.100.1");
        var cache = new LeaseCache(k => k != own.Key);
        Assert.Empty(cache.Reset([own]));
        var events = new List<LeaseEvent>();
        cache.Put(own, events);
        cache.Delete(own.Key, events);
        Assert.Empty(events);
    }
}
