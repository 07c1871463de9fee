using System.Text;
using Flannel.Subnet.Config;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Etcd.V2;

/// <summary>
/// Decides, without touching etcd, what <c>flanneld migrate-v2</c> does with each v2 key: the config at
/// <c>PREFIX/config</c> and the leases under <c>PREFIX/subnets/</c> go to the same keys in v3; a v3 key that exists is
/// never replaced unless forced; invalid values are never copied.
/// </summary>
public static class V2MigrationPlan
{
    public static List<MigrationItem> Build(EtcdOptions options, V2Node? config, V2Node? subnets, string? v3Config,
        IReadOnlyDictionary<string, string> v3Subnets, bool leases, bool force)
    {
        var items = new List<MigrationItem>();
        if (config is null || config.Dir || config.Value is null)
        {
            items.Add(new MigrationItem(options.ConfigKey, "config", null, null, v3Config, MigrationAction.Missing,
                config is { Dir: true } ? "a directory in v2, not a config" : "no config in the v2 keyspace"));
        }
        else
        {
            string? problem = null;
            try
            {
                _ = NetworkConfigParser.Parse(config.Value);
            }
            catch (NetworkConfigException e)
            {
                problem = e.Message;
            }
            items.Add(Decide(options.ConfigKey, "config", config.Value, config.Ttl, v3Config, problem, selected: true, force));
        }

        foreach (var node in subnets?.Nodes ?? [])
        {
            string name = node.Key[(node.Key.LastIndexOf('/') + 1)..];
            string key = options.SubnetsPrefix + name;
            string? v3 = v3Subnets.TryGetValue(key, out var now) ? now : null;
            string? problem = null;
            if (node.Dir || node.Value is null)
            {
                problem = "a directory, not a lease";
            }
            else if (!SubnetKeyCodec.TryParse(name, out _))
            {
                problem = "not a flannel subnet key";
            }
            else
            {
                try
                {
                    _ = LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(node.Value));
                }
                catch (LeaseDecodeException e)
                {
                    problem = e.Message;
                }
            }
            items.Add(Decide(key, "lease", node.Value, node.Ttl, v3, problem, leases, force));
        }
        return items;
    }

    private static MigrationItem Decide(string key, string kind, string? v2, long? ttl, string? v3, string? problem, bool selected, bool force)
    {
        if (problem is not null)
        {
            return new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.Invalid, "invalid: " + problem);
        }
        if (v3 == v2)
        {
            return new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.Unchanged, "already in v3");
        }
        if (!selected)
        {
            return new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.NotAsked, "--leases copies it");
        }
        if (v3 is null)
        {
            string note = ttl is { } t ? $"with a {t} s etcd lease" : kind == "lease" ? "no TTL in v2 (a reservation): no etcd lease" : "";
            return new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.Copy, note);
        }
        return force
            ? new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.Overwrite, "differs in v3; --force replaces it")
            : new MigrationItem(key, kind, v2, ttl, v3, MigrationAction.KeepV3, "differs in v3; kept (--force replaces it)");
    }
}
