using Flannel.Subnet.Etcd;

namespace Flannel.Daemon.Cli;

/// <summary>flanneld's etcd connection flags (compat §1.8, §3), shared by the daemon and the commands that read etcd.</summary>
internal sealed class EtcdFlags
{
    private const string Group = "etcd";
    private readonly Flag<string> _endpoints, _prefix, _keyFile, _certFile, _caFile, _username, _password;

    public EtcdFlags(FlagSet flags)
    {
        _endpoints = flags.Text("etcd-endpoints", string.Join(',', EtcdOptions.DefaultEndpoints), "a comma-delimited list of etcd endpoints", Group);
        _prefix = flags.Text("etcd-prefix", EtcdOptions.DefaultPrefix, "etcd prefix", Group);
        _keyFile = flags.Text("etcd-keyfile", "", "SSL key file used to secure etcd communication", Group);
        _certFile = flags.Text("etcd-certfile", "", "SSL certification file used to secure etcd communication", Group);
        _caFile = flags.Text("etcd-cafile", "", "SSL Certificate Authority file used to secure etcd communication", Group);
        _username = flags.Text("etcd-username", "", "username for BasicAuth to etcd", Group);
        _password = flags.Text("etcd-password", "", "password for BasicAuth to etcd", Group);
    }

    public EtcdOptions ToOptions() => new()
    {
        // flanneld splits on ',' without trimming; empty entries would only produce connection errors.
        Endpoints = _endpoints.Value.Split(',', StringSplitOptions.RemoveEmptyEntries),
        Prefix = _prefix.Value,
        KeyFile = NullIfEmpty(_keyFile.Value),
        CertFile = NullIfEmpty(_certFile.Value),
        CaFile = NullIfEmpty(_caFile.Value),
        Username = NullIfEmpty(_username.Value),
        Password = NullIfEmpty(_password.Value),
    };

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
