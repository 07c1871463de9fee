namespace Flannel.Subnet.Etcd;

/// <summary>How to reach etcd and where flannel's keys live (flanneld's <c>--etcd-*</c> flags, compat §1.8).</summary>
public sealed record EtcdOptions
{
    public static readonly IReadOnlyList<string> DefaultEndpoints = ["http://127.0.0.1:4001", "http://127.0.0.1:2379"];
    public const string DefaultPrefix = "/coreos.com/network";

    public IReadOnlyList<string> Endpoints { get; init; } = DefaultEndpoints;
    public string Prefix { get; init; } = DefaultPrefix;
    public string? KeyFile { get; init; }
    public string? CertFile { get; init; }
    public string? CaFile { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }

    /// <summary>Client TLS is used when both a key and a certificate are given (flanneld), or when an endpoint says https.</summary>
    public bool UseTls => (!string.IsNullOrEmpty(KeyFile) && !string.IsNullOrEmpty(CertFile)) ||
                          Endpoints.Any(e => e.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    public string ConfigKey => Join("config");

    /// <summary>The subnets directory with a trailing slash, so that a prefix range holds only lease keys.</summary>
    public string SubnetsPrefix => Join("subnets") + "/";

    public string SubnetKeyPath(SubnetKey key) => SubnetsPrefix + SubnetKeyCodec.Format(key);

    // Go's path.Join: a trailing slash on the prefix is normalised away.
    private string Join(string leaf)
    {
        string p = Prefix.TrimEnd('/');
        return (p.StartsWith('/') ? p : "/" + p) + "/" + leaf;
    }
}
