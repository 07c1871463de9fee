using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Flannel.Daemon.Logging;

/// <summary>
/// One line per event with a syslog priority prefix (<c>&lt;3&gt;</c> error ... <c>&lt;7&gt;</c> debug): journald's
/// default SyslogLevelPrefix=yes turns it into the entry's priority, so <c>journalctl -p warning</c> filters by level.
/// Exception stack traces are folded onto the same line; otherwise each line would become its own journal entry at the
/// default priority.
/// </summary>
internal sealed class JournaldFormatter : ITextFormatter
{
    private readonly MessageTemplateTextFormatter _message = new("{Message:lj}", System.Globalization.CultureInfo.InvariantCulture);

    public static string Prefix(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => "<2>",
        LogEventLevel.Error => "<3>",
        LogEventLevel.Warning => "<4>",
        LogEventLevel.Information => "<6>",
        _ => "<7>",
    };

    public void Format(LogEvent logEvent, TextWriter output)
    {
        var line = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        line.Write(Prefix(logEvent.Level));
        if (logEvent.Properties.TryGetValue("SourceContext", out var ctx) && ctx is ScalarValue { Value: string source })
        {
            line.Write(source[(source.LastIndexOf('.') + 1)..]);
            line.Write(": ");
        }
        _message.Format(logEvent, line);
        if (logEvent.Exception is { } e)
        {
            line.Write(' ');
            line.Write(e.ToString());
        }
        output.Write(line.ToString().ReplaceLineEndings(" "));
        output.Write('\n');
    }
}
