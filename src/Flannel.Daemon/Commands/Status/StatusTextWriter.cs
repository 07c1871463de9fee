using System.Globalization;
using System.Text;

namespace Flannel.Daemon.Commands.Status;

/// <summary>The report as a person reads it: config, lease table, drift list.</summary>
internal static class StatusTextWriter
{
    public static string Render(StatusReport report)
    {
        var c = report.Config;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"config     {c.Key}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"network    {c.Network}, /{c.SubnetLen} subnets from {c.SubnetMin} to {c.SubnetMax}");
        if (c.Ipv6Network is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"ipv6       {c.Ipv6Network} (IPv6 is leased; this version does not route it between hosts yet)");
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"backend    {c.Backend}");
        if (c.Device is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"device     {c.Device} ({(c.DevicePresent ? "present" : "MISSING")})");
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"this host  {report.Own.Subnet ?? "-"} ({report.Own.Source})");
        sb.AppendLine();

        // The IPv6 columns only when a lease is dual-stack: an IPv4 fleet's report stays as it was.
        bool dual = report.Leases.Any(l => l.Ipv6Subnet is not null || l.PublicIPv6 is not null);
        string[] header = dual
            ? ["SUBNET", "IPV6 SUBNET", "PUBLIC IP", "PUBLIC IPV6", "BACKEND", "EXPIRES IN", "PROGRAMMED"]
            : ["SUBNET", "PUBLIC IP", "BACKEND", "EXPIRES IN", "PROGRAMMED"];
        var rows = report.Leases.Select(l =>
        {
            string programmed = l.Detail is null ? l.Programmed : $"{l.Programmed} ({l.Detail})";
            return dual
                ? new[] { l.Subnet, l.Ipv6Subnet ?? "-", l.PublicIP, l.PublicIPv6 ?? "-", l.BackendType, Ttl(l.ExpiresInSeconds), programmed }
                : [l.Subnet, l.PublicIP, l.BackendType, Ttl(l.ExpiresInSeconds), programmed];
        }).ToList();
        if (rows.Count == 0)
        {
            sb.AppendLine("no leases");
        }
        else
        {
            var widths = Enumerable.Range(0, header.Length - 1).Select(i => rows.Append(header).Max(r => r[i].Length)).ToArray();
            foreach (var row in rows.Prepend(header))
            {
                for (int i = 0; i < widths.Length; i++)
                {
                    sb.Append(row[i].PadRight(widths[i] + 2));
                }
                sb.AppendLine(row[^1]);
            }
        }
        sb.AppendLine();
        if (report.Drift.Count == 0)
        {
            sb.AppendLine("drift      none");
        }
        else
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"drift      {report.Drift.Count}");
            foreach (var d in report.Drift)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {d.Text}");
            }
        }
        foreach (var w in report.Warnings)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"warning    {w}");
        }
        return sb.ToString();
    }

    /// <summary>Go's duration format, as flanneld logs TTLs: 23h59m58s.</summary>
    internal static string Ttl(long? seconds)
    {
        if (seconds is not { } s)
        {
            return "never";
        }
        if (s < 0)
        {
            return "expired";
        }
        var t = TimeSpan.FromSeconds(s);
        long hours = (long)t.TotalHours;
        return hours > 0 ? $"{hours}h{t.Minutes}m{t.Seconds}s"
            : t.Minutes > 0 ? $"{t.Minutes}m{t.Seconds}s"
            : $"{t.Seconds}s";
    }
}
