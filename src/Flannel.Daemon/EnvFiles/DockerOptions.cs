using Flannel.Subnet;
using System.Globalization;
using System.Text;

namespace Flannel.Daemon.EnvFiles;

/// <summary>
/// dockerd's options for a host's flannel subnet, as <c>scripts/mk-docker-opts.sh</c> (and flanneld's
/// <c>dist/mk-docker-opts.sh</c>) writes them to <c>/run/docker_opts.env</c> (compat §5).
/// </summary>
internal static class DockerOptions
{
    /// <summary>The docker env file mk-docker-opts.sh writes by default.</summary>
    public const string DefaultPath = "/run/docker_opts.env";

    /// <summary>The default name of the combined variable.</summary>
    public const string DefaultKey = "DOCKER_OPTS";

    /// <summary>
    /// What <c>mk-docker-opts.sh -k KEY</c> writes for <paramref name="env"/> (no other flags): one line
    /// <c>DOCKER_OPT_NAME="value"</c> per option, in name order (BIP, IPMASQ, MTU), then the combined line
    /// <c>KEY=" --bip=... --ip-masq=... --mtu=..."</c>, whose value starts with a space. <c>--ip-masq</c> is the
    /// inverse of FLANNEL_IPMASQ: when flanneld masquerades, Docker must not. <c>--bip</c> is left out without an
    /// IPv4 subnet; with an IPv6 subnet <c>--ipv6 --fixed-cidr-v6=...</c> are added (beyond flannel's script).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not a shell variable name.</exception>
    public static string Format(SubnetEnv env, string key = DefaultKey)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(key);
        if (!IsVariableName(key))
        {
            throw new ArgumentException($"not a shell variable name: '{key}'", nameof(key));
        }

        // In name order, as the script sorts them.
        var options = new List<(string Name, string Value)>(5);
        if (env.SubnetText is { } subnet)
        {
            options.Add(("DOCKER_OPT_BIP", "--bip=" + subnet));
        }
        if (env.Ipv6SubnetText is { } subnet6)
        {
            options.Add(("DOCKER_OPT_FIXED_CIDR_V6", "--fixed-cidr-v6=" + subnet6));
        }
        options.Add(("DOCKER_OPT_IPMASQ", env.IpMasq ? "--ip-masq=false" : "--ip-masq=true"));
        if (env.Ipv6Subnet is not null)
        {
            options.Add(("DOCKER_OPT_IPV6", "--ipv6"));
        }
        options.Add(("DOCKER_OPT_MTU", "--mtu=" + env.Mtu.ToString(CultureInfo.InvariantCulture)));

        var sb = new StringBuilder();
        var combined = new StringBuilder();
        foreach (var (name, value) in options)
        {
            sb.Append(name).Append("=\"").Append(value).Append("\"\n");
            combined.Append(' ').Append(value);
        }
        sb.Append(key).Append("=\"").Append(combined).Append("\"\n");
        return sb.ToString();
    }

    private static bool IsVariableName(string s) =>
        s.Length > 0 && !char.IsAsciiDigit(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
