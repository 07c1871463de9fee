using System.Text;
using System.Text.Json;
using Flannel.Backends;
using Flannel.Subnet.Config;

namespace Flannel.Daemon.Commands;

/// <summary>
/// <c>flanneld check-config [FILE|-]</c>: validates a network config before it is put into etcd and prints the
/// effective config with every default applied. Exit 0 when valid, 1 when not.
/// </summary>
public static class CheckConfigCommand
{
    public const string Usage = "usage: flanneld check-config [FILE|-]   (reads standard input when FILE is - or absent)";

    public static int Run(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count > 1 || (args.Count == 1 && args[0] is "-h" or "--help" or "-help"))
        {
            stderr.WriteLine(Usage);
            return args.Count == 1 ? 0 : 2;
        }
        string json;
        string source = args.Count == 0 || args[0] == "-" ? "standard input" : args[0];
        try
        {
            json = source == "standard input" ? stdin.ReadToEnd() : File.ReadAllText(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot read {source}: {e.Message}");
            return 1;
        }

        NetworkConfig config;
        try
        {
            config = NetworkConfigParser.Parse(json);
        }
        catch (NetworkConfigException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        foreach (var w in config.Warnings)
        {
            stderr.WriteLine($"warning: {w}");
        }
        if (!BackendTypes.IsKnown(config.BackendType))
        {
            // The daemon refuses this at start (flanneld: "Error fetching backend"), so the config is not usable.
            stderr.WriteLine($"error: {BackendTypes.UnknownTypeMessage(config.BackendType)}");
            return 1;
        }
        try
        {
            BackendTypes.ValidateOptions(config.BackendType, config.BackendJson);
        }
        catch (BackendException e)
        {
            // The backend would refuse it at start: a bad VNI, Port or DirectRouting value.
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        stdout.WriteLine(FormatEffective(config));
        return 0;
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
