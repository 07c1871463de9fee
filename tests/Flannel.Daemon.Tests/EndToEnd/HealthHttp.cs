using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>GETs from the daemon's health port inside a host namespace (it listens on that namespace's loopback).</summary>
internal static class HealthHttp
{
    /// <summary>The whole HTTP/1.0 answer (status line, headers, body), or "no answer: ..." when nothing listens.</summary>
    public static string Get(string hostNs, int port, string path) => NetNs.RunIn(hostNs, () =>
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 3000, SendTimeout = 3000 };
            s.Connect(IPAddress.Loopback, port);
            // HttpListener routes by the Host header: it must name the prefix's address.
            s.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
            var response = new StringBuilder();
            var buffer = new byte[65536];
            int n;
            while ((n = s.Receive(buffer)) > 0)
            {
                response.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            return response.ToString();
        }
        catch (SocketException e)
        {
            return "no answer: " + e.Message;
        }
    });

    /// <summary>GET /metrics: asserts a 200 in the Prometheus text format and returns the body.</summary>
    public static string Metrics(string hostNs, int port)
    {
        string all = Get(hostNs, port, "/metrics");
        Assert.StartsWith("HTTP/1.1 200", all, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8", all, StringComparison.OrdinalIgnoreCase);
        return all[(all.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    /// <summary>The value of one metric series (exact label set; "" for none), or -1 when it is not there.</summary>
    public static double Value(string metrics, string name, string labels)
    {
        string series = labels.Length == 0 ? name : $"{name}{{{labels}}}";
        var m = Regex.Match(metrics, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }
}
