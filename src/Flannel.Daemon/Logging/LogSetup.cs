using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace Flannel.Daemon.Logging;

/// <summary>Serilog as the provider behind <see cref="ILogger"/>: readable lines on stderr for commands run by hand.</summary>
public static class LogSetup
{
    public static ILoggerFactory CreateConsoleFactory(LogEventLevel minimum = LogEventLevel.Information)
    {
        var serilog = new LoggerConfiguration()
            .MinimumLevel.Is(minimum)
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
        return new SerilogLoggerFactory(serilog, dispose: true);
    }
}
