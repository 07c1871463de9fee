using System.Text;
using System.Text.Json;
using Flannel.Backends;
using Flannel.Subnet.Config;

namespace Flannel.Daemon.Commands;

/// <summary>
/// <c>flanneld check-config [--allow-unknown] [FILE|-]</c>: validates a network config before it is put into etcd and
/// prints the effective config with every default applied. Unlike the daemon, which ignores keys it does not know as
/// flanneld does, it refuses them, so <c>check-config cfg.json &amp;&amp; etcdctl put ...</c> stops a typo.
/// </summary>
internal static class CheckConfigCommand
{
    public const int Valid = 0;
    public const int Invalid = 1;
    public const int UsageError = 2;
    public const int UnknownKeys = 3;

    public const string Usage = """
        usage: flanneld check-config [--allow-unknown] [FILE|-]
          Validates a network config (FILE, or standard input when FILE is - or absent) as flanneld reads it from
          <prefix>/config, and prints it with every default applied (JSON, on standard output). Warnings and errors
          go to standard error.
          --allow-unknown   accept keys flannel does not know (the daemon ignores them, as flanneld does)
        exit status:
          0  valid
          1  invalid: the daemon would refuse it (bad JSON, a wrong value, an unknown backend type)
          2  usage error
          3  valid for the daemon, but it has keys flannel does not know, in the config or in its Backend (often a
             typo such as "Backen", which silently means the udp backend); --allow-unknown makes this 0
        """;

    public static int Run(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        bool allowUnknown = false;
        string? file = null;
        foreach (string a in args)
        {
            switch (a)
            {
                case "-h" or "--help" or "-help":
                    stdout.Write(Usage);
                    return Valid;
                case "--allow-unknown" or "-allow-unknown":
                    allowUnknown = true;
                    break;
                case var flag when flag.Length > 1 && flag[0] == '-':
                    stderr.WriteLine($"flanneld check-config: unknown flag {flag} (see flanneld check-config --help)");
                    return UsageError;
                default:
                    if (file is not null)
                    {
                        stderr.WriteLine($"flanneld check-config: one config at a time, got {file} and {a} (see flanneld check-config --help)");
                        return UsageError;
                    }
                    file = a;
                    break;
            }
        }
        string json;
        string source = file is null or "-" ? "standard input" : file;
        try
        {
            json = source == "standard input" ? stdin.ReadToEnd() : File.ReadAllText(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot read {source}: {e.Message}");
            return Invalid;
        }

        NetworkConfig config;
        try
        {
            config = NetworkConfigParser.Parse(json);
        }
        catch (NetworkConfigException e)
        {
            stderr.WriteLine($"error: {source}: {e.Message}");
            return Invalid;
        }
        foreach (var w in config.Warnings)
        {
            stderr.WriteLine($"warning: {w}");
        }
        if (!BackendTypes.IsKnown(config.BackendType))
        {
            // The daemon refuses this at start (flanneld: "Error fetching backend"), so the config is not usable.
            stderr.WriteLine($"error: {source}: {BackendTypes.UnknownTypeMessage(config.BackendType)}");
            return Invalid;
        }
        try
        {
            BackendTypes.Validate(config);
        }
        catch (BackendException e)
        {
            // The backend would refuse it at start: a bad VNI, Port or DirectRouting value.
            stderr.WriteLine($"error: {source}: {e.Message}");
            return Invalid;
        }
        var unknownOptions = BackendTypes.UnknownOptions(config.BackendType, config.BackendJson);
        foreach (var u in unknownOptions)
        {
            stderr.WriteLine($"warning: {u.Describe()}");
        }
        stdout.WriteLine(FormatEffective(config));
        int unknown = config.UnknownKeys.Count + unknownOptions.Count;
        if (unknown > 0 && !allowUnknown)
        {
            stderr.WriteLine($"error: {source}: {unknown} unknown key{(unknown == 1 ? "" : "s")} (listed above): fix {(unknown == 1 ? "it" : "them")}, " +
                             "or pass --allow-unknown to accept the config as the daemon would (ignoring them)");
            return UnknownKeys;
        }
        return Valid;
    }

    /// <summary>The effective config as indented JSON with flannel's field names.</summary>
    public static string FormatEffective(NetworkConfig c)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            WriteIfSet(w, "Network", c.EnableIPv4 ? c.Network.ToString() : null);
            w.WriteNumber("SubnetLen", c.EnableIPv4 ? c.SubnetLen : 0);
            WriteIfSet(w, "SubnetMin", c.EnableIPv4 ? c.SubnetMin.ToString() : null);
            WriteIfSet(w, "SubnetMax", c.EnableIPv4 ? c.SubnetMax.ToString() : null);
            w.WriteBoolean("EnableIPv4", c.EnableIPv4);
            w.WriteBoolean("EnableIPv6", c.EnableIPv6);
            if (c.EnableNFTables)
            {
                w.WriteBoolean("EnableNFTables", true);
            }
            WriteIfSet(w, "IPv6Network", c.IPv6Network?.ToString());
            w.WriteNumber("IPv6SubnetLen", c.IPv6SubnetLen);
            WriteIfSet(w, "IPv6SubnetMin", c.IPv6SubnetMin?.ToString());
            WriteIfSet(w, "IPv6SubnetMax", c.IPv6SubnetMax?.ToString());
            w.WritePropertyName("Backend");
            using (var backend = JsonDocument.Parse(c.BackendJson))
            {
                backend.RootElement.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        // Absent rather than null: flanneld's parser (and ours) refuses "IPv6Network": null, and the printed config
        // must be one that can be put back into etcd.
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
