using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Config;

/// <summary>
/// The validated network config of <c>&lt;prefix&gt;/config</c> with every default applied (flannel's
/// <c>ParseConfig</c> + <c>CheckNetworkConfig</c>, compat §2).
/// </summary>
public sealed record NetworkConfig
{
    public bool EnableIPv4 { get; init; } = true;
    public bool EnableIPv6 { get; init; }
    public bool EnableNFTables { get; init; }

    /// <summary>The IPv4 network; meaningful only when <see cref="EnableIPv4"/>.</summary>
    public Ip4Network Network { get; init; }
    public int SubnetLen { get; init; }
    public Ip4Address SubnetMin { get; init; }
    public Ip4Address SubnetMax { get; init; }

    public Ip6Network? IPv6Network { get; init; }
    public int IPv6SubnetLen { get; init; }
    public Ip6Address? IPv6SubnetMin { get; init; }
    public Ip6Address? IPv6SubnetMax { get; init; }

    /// <summary>The families the network carries: IPv4 (always, in etcd mode) and IPv6 when enabled.</summary>
    public IReadOnlyList<IpFamily> Families => EnableIPv6 ? [IpFamily.Ip4, IpFamily.Ip6] : [IpFamily.Ip4];

    /// <summary><see cref="Network"/> or <see cref="IPv6Network"/>.</summary>
    public IpNetwork NetworkOf(IpFamily family) =>
        family == IpFamily.Ip6 ? IPv6Network ?? throw new InvalidOperationException("IPv6 is not enabled") : Network;

    /// <summary>The backend type as written (flanneld lower-cases it only to look the backend up).</summary>
    public string BackendType { get; init; } = "udp";

    /// <summary>The Backend object as raw JSON (its backend-specific keys are the backend's to read).</summary>
    public string BackendJson { get; init; } = "{\"Type\":\"udp\"}";

    /// <summary>Why <see cref="BackendType"/> is what it is ("Backend.Type \"vxlan\"", or flanneld's default and why), for the start-up log.</summary>
    public string BackendChoice { get; init; } = "";

    /// <summary>Keys of the network config flannel does not know (ignored, as flanneld ignores them); each is also a warning.</summary>
    public IReadOnlyList<UnknownKey> UnknownKeys { get; init; } = [];

    /// <summary>Things an operator should know that do not make the config invalid (unknown keys, defaults taken).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>True when <paramref name="key"/> is a subnet this config may hand out (flannel's compatibility check in acquire).</summary>
    public bool IsCompatible(SubnetKey key)
    {
        if (EnableIPv4)
        {
            var sn = key.Subnet;
            if (sn.Ip < SubnetMin || sn.Ip > SubnetMax || sn.PrefixLength != SubnetLen)
            {
                return false;
            }
        }
        if (!EnableIPv6)
        {
            return key.Ipv6Subnet is null;
        }
        return key.Ipv6Subnet is { } v6 && IPv6SubnetMin is { } min && IPv6SubnetMax is { } max &&
               v6.Ip >= min && v6.Ip <= max && v6.PrefixLength == IPv6SubnetLen;
    }
}
