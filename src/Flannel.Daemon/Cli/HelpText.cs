using System.Text;

namespace Flannel.Daemon.Cli;

/// <summary><c>flanneld --help</c>: flags grouped as in the README, each with its FLANNELD_ variable and default.</summary>
internal static class HelpText
{
    public static string Render(DaemonFlags flags)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Usage: flanneld [flags]            run the overlay network daemon (etcd v3)");
        sb.AppendLine("       flanneld check-config [--allow-unknown] [FILE|-]   validate a network config and print it with defaults");
        sb.AppendLine("                                        applied; exit 0 valid, 1 invalid, 2 usage, 3 unknown keys (see check-config --help)");
        sb.AppendLine("       flanneld lease --public-ip IP    acquire (or find) this host's lease and print it");
        sb.AppendLine("       flanneld status [--json]         compare the leases in etcd with this host's routes, neighbours and FDB");
        sb.AppendLine("       flanneld migrate-v2 [--apply] [--leases] [--force]   copy flanneld <= v0.17's etcd v2 config (and leases) to v3");
        sb.AppendLine();
        sb.AppendLine("Flags use Go syntax: -flag or --flag, --flag=value or --flag value, --bool or --bool=false.");
        sb.AppendLine("A flag not given is read from the environment variable shown (empty values are ignored).");
        foreach (var group in flags.Set.Flags.GroupBy(f => f.Group))
        {
            sb.AppendLine();
            sb.AppendLine(group.Key.Length == 0 ? "general:" : group.Key + ":");
            foreach (var f in group)
            {
                string def = f.DefaultText.Length == 0 ? "" : $" (default {f.DefaultText})";
                sb.AppendLine($"  --{f.Name}{(f.IsBool ? "" : " value")}");
                sb.AppendLine($"        {f.Help}{def}");
                sb.AppendLine($"        env {flags.Set.EnvName(f.Name)}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a fatal error, 2 on bad flags");
        sb.AppendLine("(flanneld exits 0 on an unknown flag).");
        return sb.ToString();
    }
}
