using Flannel.Daemon.Logging;
using Serilog.Events;
using Serilog.Parsing;

namespace Flannel.Daemon.Tests;

[Unit]
public class JournaldFormatterTests
{
    private static string Format(LogEventLevel level, string template, Exception? e = null, params LogEventProperty[] props)
    {
        var ev = new LogEvent(DateTimeOffset.UtcNow, level, e, new MessageTemplateParser().Parse(template),
            [new LogEventProperty("SourceContext", new ScalarValue("Flannel.Subnet.Leases.LeaseManager")), .. props]);
        var w = new StringWriter();
        new JournaldFormatter().Format(ev, w);
        return w.ToString();
    }

    [Theory]
    [InlineData(LogEventLevel.Fatal, "<2>")]
    [InlineData(LogEventLevel.Error, "<3>")]
    [InlineData(LogEventLevel.Warning, "<4>")]
    [InlineData(LogEventLevel.Information, "<6>")]
    [InlineData(LogEventLevel.Debug, "<7>")]
    public void Each_level_gets_its_syslog_priority(LogEventLevel level, string prefix) =>
        Assert.StartsWith(prefix + "LeaseManager: ", Format(level, "hello"), StringComparison.Ordinal);

    [Fact]
    public void One_line_per_event_even_with_an_exception_and_strings_unquoted()
    {
        Exception e;
        try
        {
            throw new InvalidOperationException("boom\nsecond line");
        }
        catch (InvalidOperationException caught)
        {
            e = caught;
        }
        string line = Format(LogEventLevel.Error, "Renewing lease {Subnet} failed", e, new LogEventProperty("Subnet", new ScalarValue("10.5.1.0-24")));
        Assert.EndsWith("\n", line, StringComparison.Ordinal);
        Assert.Equal(1, line.Count(c => c == '\n'));
        Assert.StartsWith("<3>LeaseManager: Renewing lease 10.5.1.0-24 failed System.InvalidOperationException: boom second line", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Systemd_is_detected_from_journal_stream_or_invocation_id()
    {
        Assert.True(LogSetup.UnderSystemd(k => k == "JOURNAL_STREAM" ? "8:1234" : null));
        Assert.True(LogSetup.UnderSystemd(k => k == "INVOCATION_ID" ? "abc" : null));
        Assert.False(LogSetup.UnderSystemd(_ => null));
    }
}
