using Flannel.Subnet;
using System.Globalization;
using System.Text.Json;

namespace Flannel.Daemon.EnvFiles;

/// <summary>
/// Reads dockerd's daemon.json for keys the docker options (mk-docker-opts.sh's DOCKER_OPTS, or --docker-opts-file)
/// also pass as flags: dockerd refuses to start when a directive is both a flag and in the file ("the following
/// directives are specified both as a flag and in the configuration file"), even with equal values. Never writes it.
/// </summary>
internal static class DockerDaemonJson
{
    public const string DefaultPath = "/etc/docker/daemon.json";

    /// <summary>
    /// The clashing keys (empty when none, or when the file does not exist), compared with what the docker options
    /// for <paramref name="env"/> pass.
    /// </summary>
    /// <exception cref="IOException">The file exists but cannot be read.</exception>
    /// <exception cref="JsonException">The file is not a JSON object (dockerd would not start either).</exception>
    /// <param name="env">What the docker options are made from; null when unknown (only the keys are reported).</param>
    public static IReadOnlyList<DaemonJsonClash> Check(string path, SubnetEnv? env)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip, // dockerd's parser tolerates neither, but say the real problem
            AllowTrailingCommas = true,
        });
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("not a JSON object");
        }
        var ours = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["bip"] = env?.SubnetText,
            ["mtu"] = env?.Mtu.ToString(CultureInfo.InvariantCulture),
            ["ip-masq"] = env is null ? null : env.IpMasq ? "false" : "true",
        };
        if (env?.Ipv6Subnet is not null)
        {
            // Only an IPv6 lease puts these in the options (mk-docker-opts.sh, --docker-opts-file).
            ours["ipv6"] = "true";
            ours["fixed-cidr-v6"] = env.Ipv6SubnetText;
        }
        var clashes = new List<DaemonJsonClash>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            // Without an IPv4 subnet the options carry no --bip, so daemon.json's bip is no clash then.
            if (ours.TryGetValue(p.Name, out var mine) && (mine is not null || env is null))
            {
                clashes.Add(new DaemonJsonClash(p.Name, p.Value.GetRawText(), mine));
            }
        }
        return clashes;
    }

    /// <summary>The warning's text: each key with both values, and the fix.</summary>
    public static string Describe(string path, IReadOnlyList<DaemonJsonClash> clashes) =>
        $"{path} sets {string.Join(", ", clashes.Select(c => $"{c.Key}={c.Value} ({c.Comparison})"))}: " +
        "dockerd refuses to start when a directive is both a flag and in daemon.json; remove " +
        string.Join(", ", clashes.Select(c => $"\"{c.Key}\"")) + " from " + path + " (flanneld never edits it)";
}
