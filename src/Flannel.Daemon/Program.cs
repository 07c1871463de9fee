using System.Diagnostics;
using System.Reflection;
using Flannel.Daemon.Commands;
using Flannel.Daemon.Commands.Status;
using Flannel.Daemon.Logging;

namespace Flannel.Daemon;

internal static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static async Task<int> Main(string[] args)
    {
        var sinceStart = Stopwatch.StartNew();
        switch (args.Length > 0 ? args[0] : "")
        {
            case "check-config":
                return CheckConfigCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
            case "lease":
                return await RunCommandAsync(LeaseCommand.RunAsync, args, Serilog.Events.LogEventLevel.Information);
            case "migrate-v2":
                return await RunCommandAsync(MigrateV2Command.RunAsync, args, Serilog.Events.LogEventLevel.Warning);
            case "status":
                return await RunCommandAsync(StatusCommand.RunAsync, args, Serilog.Events.LogEventLevel.Warning);
            default:
                return await DaemonRunner.RunAsync(args, sinceStart);
        }
    }

    private delegate Task<int> EtcdCommand(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Microsoft.Extensions.Logging.ILoggerFactory logs,
        CancellationToken ct);

    /// <summary>Runs a one-shot command that talks to etcd: Ctrl-C cancels it, its log goes to the console.</summary>
    private static async Task<int> RunCommandAsync(EtcdCommand command, string[] args, Serilog.Events.LogEventLevel level)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        using var logs = LogSetup.CreateConsoleFactory(level);
        return await command(args[1..], Console.Out, Console.Error, logs, cts.Token);
    }
}
