using System.Reflection;
using Flannel.Daemon.Commands;
using Flannel.Daemon.Logging;

namespace Flannel.Daemon;

public static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static async Task<int> Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "";
        switch (command)
        {
            case "check-config":
                return CheckConfigCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
            case "lease":
            {
                using var cts = new CancellationTokenSource();
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    cts.Cancel();
                };
                using var logs = LogSetup.CreateConsoleFactory();
                return await LeaseCommand.RunAsync(args[1..], Console.Out, Console.Error, logs, cts.Token);
            }
            case "-version" or "--version" or "version":
                // flanneld prints its version to stderr.
                Console.Error.WriteLine(Version);
                return 0;
            case "-h" or "-help" or "--help" or "help":
                Console.Out.Write(Usage);
                return 0;
            default:
                Console.Error.Write(Usage);
                Console.Error.WriteLine();
                Console.Error.WriteLine("Running the network daemon itself is not part of this build yet: use the commands above.");
                return 2;
        }
    }

    private const string Usage = """
        flanneld: a flanneld-compatible overlay network daemon for Docker hosts (etcd v3 API).

        Commands:
          flanneld check-config [FILE|-]   validate a network config (file or standard input) and print it with
                                           every default applied; exit 1 with flanneld's error when invalid
          flanneld lease --public-ip IP    acquire (or find) this host's subnet lease in etcd and print it
                 [--subnet-file PATH] [--etcd-endpoints URLS] [--etcd-prefix PREFIX]
                 [--etcd-keyfile F --etcd-certfile F --etcd-cafile F] [--etcd-username U --etcd-password P]
          flanneld --version               print the version (to standard error, as flanneld does)

        Flags use Go syntax (-flag or --flag, --flag=value or --flag value); a flag not given is read from
        FLANNELD_<FLAG> (upper case, '-' as '_'), e.g. FLANNELD_ETCD_ENDPOINTS.

        """;
}
