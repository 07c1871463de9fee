using Flannel.Subnet.Config;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

[Unit]
public class SubnetAllocatorTests
{
    private static SubnetKey Key(string s) => SubnetKeyCodec.TryParse(s, out var k) ? k : throw new ArgumentException(s);

    [Fact]
    public void Picks_only_free_subnets_within_min_and_max()
    {
        var c = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/24","SubnetLen":28,"Backend":{"Type":"udp"}}""");
        // 10.0.0.16 .. 10.0.0.240 in /28 steps = 15 candidates; take all but 10.0.0.48.
        var taken = Enumerable.Range(1, 15).Where(i => i != 3).Select(i => Key($"10.0.0.{i * 16}-28")).ToList();
        for (int seed = 0; seed < 20; seed++)
        {
            Assert.Equal("10.0.0.48-28", SubnetAllocator.Allocate(c, taken, new Random(seed))!.Value.ToString());
        }
    }

    [Fact]
    public void A_larger_lease_that_overlaps_blocks_every_candidate_inside_it()
    {
        var c = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/16","SubnetMin":"10.0.1.0","SubnetMax":"10.0.4.0","Backend":{"Type":"udp"}}""");
        var taken = new[] { Key("10.0.0.0-22") }; // covers 10.0.0.0 - 10.0.3.255
        for (int seed = 0; seed < 10; seed++)
        {
            Assert.Equal("10.0.4.0-24", SubnetAllocator.Allocate(c, taken, new Random(seed))!.Value.ToString());
        }
    }

    [Fact]
    public void Chooses_among_the_first_hundred_free_candidates()
    {
        var c = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/8","Backend":{"Type":"udp"}}""");
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 2000; seed++)
        {
            var k = SubnetAllocator.Allocate(c, [], new Random(seed))!.Value;
            Assert.True(k.Subnet.Ip.Value >= 0x0A000100 && k.Subnet.Ip.Value <= 0x0A006400, k.ToString());
            seen.Add(k.ToString());
        }
        Assert.Equal(100, seen.Count);
    }

    [Fact]
    public void Full_range_returns_null_and_min_above_max_has_no_candidates()
    {
        var c = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/28","Backend":{"Type":"udp"}}""");
        var all = new[] { Key("10.0.0.4-30"), Key("10.0.0.8-30"), Key("10.0.0.12-30") };
        Assert.Null(SubnetAllocator.Allocate(c, all, new Random(1)));
        var inverted = NetworkConfigParser.Parse("""{"Network":"10.0.0.0/16","SubnetMin":"10.0.9.0","SubnetMax":"10.0.8.0","Backend":{"Type":"udp"}}""");
        Assert.Null(SubnetAllocator.Allocate(inverted, [], new Random(1)));
    }

    [Fact]
    public void Dual_stack_allocates_both_parts()
    {
        var c = NetworkConfigParser.Parse("""{"EnableIPv6":true,"Network":"10.0.0.0/16","IPv6Network":"fd00::/56","Backend":{"Type":"vxlan"}}""");
        var k = SubnetAllocator.Allocate(c, [Key("10.0.1.0-24&fd00:0:0:1::-64")], new Random(3))!.Value;
        Assert.NotNull(k.Ipv6Subnet);
        Assert.Equal(64, k.Ipv6Subnet!.Value.PrefixLength);
        Assert.NotEqual("fd00:0:0:1::/64", k.Ipv6Subnet.Value.ToString());
        Assert.NotEqual("10.0.1.0/24", k.Subnet.ToString());
        Assert.True(c.IsCompatible(k));
    }
}
