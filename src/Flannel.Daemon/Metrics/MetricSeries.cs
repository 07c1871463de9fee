using System.Globalization;
using System.Text;

namespace Flannel.Daemon.Metrics;

/// <summary>The label part of one series, rendered once when the series first appears: <c>{a="x",b="y"}</c> or "".</summary>
internal static class MetricLabels
{
    public static string Render(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }
        var sb = new StringBuilder("{");
        for (int i = 0; i < tags.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(SanitizeName(tags[i].Key)).Append("=\"");
            AppendEscaped(sb, Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            sb.Append('"');
        }
        return sb.Append('}').ToString();
    }

    /// <summary>Adds one more label to a rendered label set (a histogram's <c>le</c>).</summary>
    public static string With(string labels, string name, string value) =>
        labels.Length == 0 ? $"{{{name}=\"{value}\"}}" : $"{labels[..^1]},{name}=\"{value}\"}}";

    /// <summary>Prometheus metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'.</summary>
    public static string SanitizeName(string name)
    {
        var sb = new StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' or ':' || (i > 0 && c is >= '0' and <= '9');
            sb.Append(ok ? c : '_');
        }
        return sb.ToString();
    }

    // The text format escapes backslash, double quote and line feed in label values.
    private static void AppendEscaped(StringBuilder sb, string value)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => sb.Append("\\\\"),
                '"' => sb.Append("\\\""),
                '\n' => sb.Append("\\n"),
                _ => sb.Append(c),
            };
        }
    }
}
