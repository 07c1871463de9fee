using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>Reads flannel's subnet.env (<c>KEY=value</c> lines, as godotenv parses them).</summary>
public static class SubnetFile
{
    public const string DefaultPath = "/run/flannel/subnet.env";

    /// <summary>The previous run's values; <see cref="PreviousSubnets.None"/> when the file is absent or unreadable.</summary>
    public static PreviousSubnets ReadPrevious(string path) => TryRead(path)?.Subnets ?? PreviousSubnets.None;

    /// <summary>Every <c>KEY=value</c> of the file and the subnets they name; null when it is absent or unreadable.</summary>
    public static SubnetFileContents? TryRead(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var env = ParseEnv(text);
        var subnets = new PreviousSubnets(
            One<Ip4Network>(env, "FLANNEL_NETWORK", s => Ip4Network.TryParseCidr(s, out var n) ? n : null),
            One<Ip4Network>(env, "FLANNEL_SUBNET", s => Ip4Network.TryParseCidr(s, out var n) ? n : null),
            One<Ip6Network>(env, "FLANNEL_IPV6_NETWORK", s => Ip6Network.TryParseCidr(s, out var n) ? n : null),
            One<Ip6Network>(env, "FLANNEL_IPV6_SUBNET", s => Ip6Network.TryParseCidr(s, out var n) ? n : null));
        return new SubnetFileContents(subnets, env);
    }

    // flannel accepts a comma-separated list and uses it only when exactly one entry is a valid CIDR; the value is
    // masked (FLANNEL_SUBNET=10.5.21.1/24 means 10.5.21.0/24), which TryParseCidr does.
    private static T? One<T>(Dictionary<string, string> env, string name, Func<string, T?> parse) where T : struct
    {
        if (!env.TryGetValue(name, out var value))
        {
            return null;
        }
        var valid = value.Split(',', StringSplitOptions.TrimEntries).Select(parse).Where(v => v is not null).ToList();
        return valid.Count == 1 ? valid[0] : null;
    }

    internal static Dictionary<string, string> ParseEnv(string text)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }
            int eq = line.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }
            string value = line[(eq + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }
            env[line[..eq].Trim()] = value;
        }
        return env;
    }
}
