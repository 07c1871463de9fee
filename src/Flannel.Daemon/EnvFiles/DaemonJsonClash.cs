namespace Flannel.Daemon.EnvFiles;

/// <summary>One daemon.json key that dockerd would also get as a flag from the docker options.</summary>
/// <param name="Key">bip, mtu or ip-masq.</param>
/// <param name="Value">Its value in daemon.json, as JSON.</param>
/// <param name="Ours">What the docker options pass, when known.</param>
internal sealed record DaemonJsonClash(string Key, string Value, string? Ours)
{
    public bool Same => Ours is not null && string.Equals(Value.Trim('"'), Ours, StringComparison.OrdinalIgnoreCase);

    public string Comparison => Ours is null ? "also a flag in the docker options" : $"{(Same ? "same as" : "differs from")} --{Key}={Ours} in the docker options";
}
