using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace Flannel.Daemon.Logging;

/// <summary>Serilog as the provider behind <see cref="Microsoft.Extensions.Logging.ILogger"/>.</summary>
internal static class LogSetup
{
    /// <summary>True when stderr goes to the journal (systemd sets JOURNAL_STREAM for it, INVOCATION_ID for units).</summary>
    public static bool UnderSystemd(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        return !string.IsNullOrEmpty(env("JOURNAL_STREAM")) || !string.IsNullOrEmpty(env("INVOCATION_ID"));
    }

    public static LogEventLevel ParseLevel(string level, int klogVerbosity = 0) =>
        klogVerbosity > 0 ? LogEventLevel.Debug : level.ToLowerInvariant() switch
        {
            "debug" => LogEventLevel.Debug,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        };

    /// <summary>The daemon's logger: journald lines under systemd, readable lines with time and level otherwise.</summary>
    public static Serilog.ILogger CreateDaemonLogger(LogEventLevel minimum, bool journald)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(minimum)
            // gRPC and the host log a lot at Information about their own plumbing.
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // The host logs a failed start as an error with its stack trace, also when SIGTERM only cancelled the wait
            // for etcd; DaemonRunner says what happened in one line instead (events 3007, 3017).
            .Filter.ByExcluding(e => e.MessageTemplate.Text == "Hosting failed to start")
            .Enrich.FromLogContext();
        config = journald
            ? config.WriteTo.Console(new JournaldFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : config.WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        return config.CreateLogger();
    }

    /// <summary>Readable lines on stderr for commands run by hand.</summary>
    public static ILoggerFactory CreateConsoleFactory(LogEventLevel minimum = LogEventLevel.Information) =>
        new SerilogLoggerFactory(CreateDaemonLogger(minimum, journald: false), dispose: true);
}
