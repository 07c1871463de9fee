using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Flannel.TestSupport;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>GET /metrics from the daemon's health port inside a host namespace, and series lookups in the answer.</summary>
internal static class MetricsScrape
{
    public static string Get(string hostNs, int port) => NetNs.RunIn(hostNs, () =>
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 3000, SendTimeout = 3000 };
            s.Connect(IPAddress.Loopback, port);
            s.Send(Encoding.ASCII.GetBytes($"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
            var response = new StringBuilder();
            var buffer = new byte[65536];
            int n;
            while ((n = s.Receive(buffer)) > 0)
            {
                response.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            string all = response.ToString();
            Assert.StartsWith("HTTP/1.1 200", all, StringComparison.Ordinal);
            Assert.Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8", all, StringComparison.OrdinalIgnoreCase);
            return all[(all.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        }
        catch (SocketException e)
        {
            return "no answer: " + e.Message;
        }
    });

    /// <summary>The value of one series (exact label set; "" for none), or -1 when it is not there.</summary>
    public static double Value(string text, string name, string labels)
    {
        string series = labels.Length == 0 ? name : $"{name}{{{labels}}}";
        var m = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }
}
