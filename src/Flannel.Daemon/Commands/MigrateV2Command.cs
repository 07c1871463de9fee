using System.Globalization;
using Flannel.Daemon.Cli;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Etcd.V2;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Commands;

/// <summary>
/// <c>flanneld migrate-v2 [--apply] [--leases] [--force] [etcd flags]</c>: copies what flanneld up to v0.17 kept in
/// etcd's v2 keyspace (the config, and with --leases the subnet leases with their remaining TTL) to the same keys in
/// the v3 keyspace this daemon reads. Without --apply it only shows what it would do. An existing v3 key is never
/// replaced without --force; an invalid value is never copied.
/// </summary>
internal static class MigrateV2Command
{
    public const string Usage =
        "usage: flanneld migrate-v2 [--apply] [--leases] [--force] [--etcd-endpoints URLS] [--etcd-prefix PREFIX] [--etcd-* TLS/auth flags]\n" +
        "exit status: 0 done (or nothing to do), 1 an invalid value, a missing v2 config or a failed write, 2 bad flags,\n" +
        "3 etcd (v2 or v3 API) unreachable or refusing";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, ILoggerFactory logs, CancellationToken ct)
    {
        var flags = new FlagSet();
        var etcdFlags = new EtcdFlags(flags);
        var apply = flags.Switch("apply", false, "write to the v3 keyspace (without it: show what would be written)");
        var leases = flags.Switch("leases", false, "also copy the subnet leases (same subnet and attributes, a v3 lease with the remaining TTL)");
        var force = flags.Switch("force", false, "replace v3 keys that exist with other content");
        if (CommandFlags.Parse(flags, args, stderr, Usage) is { } exit)
        {
            return exit;
        }

        var options = etcdFlags.ToOptions();
        List<MigrationItem> plan;
        using var etcd = new EtcdConnection(options);
        var registry = new EtcdSubnetRegistry(etcd, logs.CreateLogger<EtcdSubnetRegistry>());
        try
        {
            using var v2 = new EtcdV2Client(options);
            var config = await v2.GetAsync(options.ConfigKey, ct);
            var subnets = await v2.GetAsync(options.SubnetsPrefix.TrimEnd('/'), ct);
            string? v3Config = await registry.GetNetworkConfigAsync(ct);
            var v3Subnets = await registry.GetRawRangeAsync(options.SubnetsPrefix, ct);
            plan = V2MigrationPlan.Build(options, config, subnets, v3Config, v3Subnets, leases.Value, force.Value);
        }
        catch (EtcdV2Exception e)
        {
            stderr.WriteLine("error: " + e.Message);
            return 3;
        }
        catch (EtcdException e)
        {
            stderr.WriteLine($"error: etcd v3 API at {string.Join(',', options.Endpoints)}: {e.Code}: {e.Detail}");
            return 3;
        }

        stdout.WriteLine($"flanneld migrate-v2: etcd v2 keyspace -> v3, prefix {options.Prefix}" +
                         (apply.Value ? "" : " (dry run: nothing is written without --apply)"));
        stdout.WriteLine();
        var outcome = new Dictionary<MigrationItem, string>();
        int failed = 0;
        if (apply.Value)
        {
            foreach (var item in plan.Where(i => i.Writes))
            {
                try
                {
                    TimeSpan? ttl = item.TtlSeconds is { } s ? TimeSpan.FromSeconds(Math.Max(1, s)) : null;
                    bool written = await registry.CopyAsync(item.Key, item.V2Value!, ttl, overwrite: item.Action == MigrationAction.Overwrite, ct);
                    outcome[item] = written ? (item.Action == MigrationAction.Copy ? "copied" : "overwritten") : "not copied: written in v3 meanwhile";
                    failed += written ? 0 : 1;
                }
                catch (EtcdException e)
                {
                    outcome[item] = $"failed: {e.Code}: {e.Detail}";
                    failed++;
                }
            }
        }
        WriteTable(stdout, plan, outcome, apply.Value);
        stdout.WriteLine();
        int count(MigrationAction a) => plan.Count(i => i.Action == a);
        string writes = apply.Value
            ? string.Create(CultureInfo.InvariantCulture, $"; {outcome.Values.Count(v => v is "copied" or "overwritten")} written, {failed} failed")
            : "";
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: {count(MigrationAction.Copy)} to copy, {count(MigrationAction.Overwrite)} to overwrite, {count(MigrationAction.Unchanged)} unchanged, {count(MigrationAction.KeepV3)} kept (v3 differs), {count(MigrationAction.NotAsked)} leases not asked for, {count(MigrationAction.Invalid)} invalid{writes}"));
        if (!apply.Value && plan.Any(i => i.Writes))
        {
            stdout.WriteLine("run again with --apply to write" + (leases.Value || count(MigrationAction.NotAsked) == 0 ? "" : " (and --leases for the leases)"));
        }
        if (count(MigrationAction.Missing) > 0)
        {
            stderr.WriteLine($"error: no flannel config in the v2 keyspace at {options.ConfigKey} (check --etcd-prefix)");
        }
        return count(MigrationAction.Invalid) + count(MigrationAction.Missing) + failed > 0 ? 1 : 0;
    }

    private static readonly string[] Header = ["KEY", "KIND", "V2 TTL", "V3 NOW", "ACTION", "NOTE"];

    private static void WriteTable(TextWriter w, List<MigrationItem> plan, Dictionary<MigrationItem, string> outcome, bool applied)
    {
        var rows = new List<string[]> { Header };
        foreach (var i in plan)
        {
            string action = i.Action switch
            {
                MigrationAction.Copy => "copy",
                MigrationAction.Overwrite => "overwrite",
                MigrationAction.Unchanged => "unchanged",
                MigrationAction.KeepV3 => "keep v3",
                MigrationAction.NotAsked => "skip",
                MigrationAction.Invalid => "invalid",
                _ => "missing",
            };
            rows.Add([
                i.Key, i.Kind, i.TtlSeconds is { } t ? t.ToString(CultureInfo.InvariantCulture) + " s" : "-",
                i.V3Value is null ? "absent" : i.V3Value == i.V2Value ? "same" : "differs",
                applied && outcome.TryGetValue(i, out var done) ? done : action, i.Note,
            ]);
        }
        int[] widths = [.. Enumerable.Range(0, 5).Select(c => rows.Max(r => r[c].Length))];
        foreach (var r in rows)
        {
            w.WriteLine(string.Join("  ", r.Take(5).Select((cell, c) => cell.PadRight(widths[c]))) + "  " + r[5]);
        }
    }
}
