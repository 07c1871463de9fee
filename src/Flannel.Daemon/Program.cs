using System.Diagnostics;
using System.Reflection;
using Flannel.Daemon.Commands;
using Flannel.Daemon.Commands.Status;
using Flannel.Daemon.Logging;

namespace Flannel.Daemon;

public static class Program
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
            case "migrate-v2":
            {
                using var cts = new CancellationTokenSource();
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    cts.Cancel();
                };
                using var logs = LogSetup.CreateConsoleFactory(Serilog.Events.LogEventLevel.Warning);
                return await MigrateV2Command.RunAsync(args[1..], Console.Out, Console.Error, logs, cts.Token);
            }
            case "status":
            {
                using var cts = new CancellationTokenSource();
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    cts.Cancel();
                };
                using var logs = LogSetup.CreateConsoleFactory(Serilog.Events.LogEventLevel.Warning);
                return await StatusCommand.RunAsync(args[1..], Console.Out, Console.Error, logs, cts.Token);
            }
            default:
                return await DaemonRunner.RunAsync(args, sinceStart);
        }
    }
}
