using System.Net;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Etcd.V2;

namespace Flannel.Subnet.Tests;

[Unit]
public class V2MigrationPlanTests
{
    private static readonly EtcdOptions Options = new();
    private const string Config = """{"Network":"10.1.0.0/16"}""";
    private const string Lease = """{"PublicIP":"198.51.100.5","BackendType":"vxlan","BackendData":{"VtepMAC":"aa:bb:cc:dd:ee:ff"}}""";

    private static V2Node ConfigNode(string value) => new("/coreos.com/network/config", value, false, null, []);

    private static V2Node Subnets(params V2Node[] nodes) => new("/coreos.com/network/subnets", null, true, null, nodes);

    private static V2Node LeaseNode(string name, string value, long? ttl = 300) => new("/coreos.com/network/subnets/" + name, value, false, ttl, []);

    private static Dictionary<string, string> V3(params (string Key, string Value)[] kvs) => kvs.ToDictionary(k => k.Key, k => k.Value);

    [Fact]
    public void Absent_keys_are_copied_and_leases_only_when_asked()
    {
        var subnets = Subnets(LeaseNode("10.1.5.0-24", Lease));
        var without = V2MigrationPlan.Build(Options, ConfigNode(Config), subnets, null, V3(), leases: false, force: false);
        Assert.Equal([MigrationAction.Copy, MigrationAction.NotAsked], without.Select(i => i.Action));
        var with = V2MigrationPlan.Build(Options, ConfigNode(Config), subnets, null, V3(), leases: true, force: false);
        Assert.Equal([MigrationAction.Copy, MigrationAction.Copy], with.Select(i => i.Action));
        Assert.Equal("/coreos.com/network/subnets/10.1.5.0-24", with[1].Key);
        Assert.Equal(300, with[1].TtlSeconds);
        Assert.Equal(Lease, with[1].V2Value);
        Assert.True(with.All(i => i.Writes));
    }

    [Fact]
    public void Existing_v3_keys_are_kept_unless_forced_and_equal_ones_left_alone()
    {
        var subnets = Subnets(LeaseNode("10.1.5.0-24", Lease), LeaseNode("10.1.6.0-24", Lease.Replace(".5", ".6", StringComparison.Ordinal)));
        var v3 = V3(("/coreos.com/network/subnets/10.1.5.0-24", Lease), ("/coreos.com/network/subnets/10.1.6.0-24", "{}"));
        var plan = V2MigrationPlan.Build(Options, ConfigNode(Config), subnets, """{"Network":"10.2.0.0/16"}""", v3, leases: true, force: false);
        Assert.Equal([MigrationAction.KeepV3, MigrationAction.Unchanged, MigrationAction.KeepV3], plan.Select(i => i.Action));
        Assert.DoesNotContain(plan, i => i.Writes);
        var forced = V2MigrationPlan.Build(Options, ConfigNode(Config), subnets, """{"Network":"10.2.0.0/16"}""", v3, leases: true, force: true);
        Assert.Equal([MigrationAction.Overwrite, MigrationAction.Unchanged, MigrationAction.Overwrite], forced.Select(i => i.Action));
    }

    [Fact]
    public void Invalid_values_are_never_copied_even_when_forced()
    {
        var subnets = Subnets(
            LeaseNode("10.1.5.0-24", "{garbage"),
            LeaseNode("not-a-subnet", Lease),
            new V2Node("/coreos.com/network/subnets/10.1.7.0-24", null, true, null, []));
        var plan = V2MigrationPlan.Build(Options, ConfigNode("""{"Network":"10.1.0.0/33"}"""), subnets, null, V3(), leases: true, force: true);
        Assert.All(plan, i => Assert.Equal(MigrationAction.Invalid, i.Action));
        Assert.Contains("is not a valid IPv4 network (CIDR)", plan[0].Note, StringComparison.Ordinal);
        Assert.Equal("invalid: not a flannel subnet key", plan[2].Note);
        Assert.Equal("invalid: a directory, not a lease", plan[3].Note);
    }

    [Fact]
    public void A_missing_v2_config_is_reported_and_its_leases_still_considered()
    {
        var plan = V2MigrationPlan.Build(Options, null, Subnets(LeaseNode("10.1.5.0-24", Lease, ttl: null)), null, V3(), leases: true, force: false);
        Assert.Equal(MigrationAction.Missing, plan[0].Action);
        Assert.Equal(MigrationAction.Copy, plan[1].Action);
        Assert.Null(plan[1].TtlSeconds);
        Assert.Contains("reservation", plan[1].Note, StringComparison.Ordinal);
    }
}

[Unit]
public class EtcdV2ClientTests
{
    [Fact]
    public void A_node_tree_is_read_with_values_and_ttls()
    {
        var node = EtcdV2Client.Interpret("e", HttpStatusCode.OK, """
            {"action":"get","node":{"key":"/n","dir":true,"nodes":[{"key":"/n/config","value":"{}","modifiedIndex":4},
             {"key":"/n/subnets","dir":true,"nodes":[{"key":"/n/subnets/10.1.5.0-24","value":"v","ttl":598,"expiration":"2026-11-26T04:20:26Z"}]}]}}
            """);
        Assert.NotNull(node);
        Assert.True(node.Dir);
        Assert.Equal("{}", node.Nodes[0].Value);
        Assert.Equal(598, node.Nodes[1].Nodes[0].Ttl);
        Assert.Null(node.Nodes[0].Ttl);
    }

    [Fact]
    public void Key_not_found_is_null_and_errors_say_what_to_fix()
    {
        Assert.Null(EtcdV2Client.Interpret("e", HttpStatusCode.NotFound, """{"errorCode":100,"message":"Key not found","cause":"/x","index":5}"""));
        var notServed = Assert.Throws<EtcdV2Exception>(() => EtcdV2Client.Interpret("http://e:2379", HttpStatusCode.NotFound, "404 page not found\n"));
        Assert.Contains("--enable-v2", notServed.Message, StringComparison.Ordinal);
        var auth = Assert.Throws<EtcdV2Exception>(() => EtcdV2Client.Interpret("e", HttpStatusCode.Unauthorized, """{"errorCode":110,"message":"The request requires user authentication"}"""));
        Assert.Contains("--etcd-username", auth.Message, StringComparison.Ordinal);
        Assert.Throws<EtcdV2Exception>(() => EtcdV2Client.Interpret("e", HttpStatusCode.InternalServerError, "oops"));
    }
}
