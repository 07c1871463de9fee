using Flannel.Backends.Interfaces;
using Flannel.Daemon.Cli;
using Flannel.Daemon.DBus;
using Flannel.Subnet.Etcd;

namespace Flannel.Daemon;

/// <summary>The daemon's settings, from flags and FLANNELD_* variables.</summary>
internal sealed record DaemonSettings
{
    public EtcdOptions Etcd { get; init; } = new();
    public InterfaceOptions Interface { get; init; } = new();
    public string SubnetFile { get; init; } = Subnet.SubnetFile.DefaultPath;
    public string? DockerOptsFile { get; init; }
    public string? DockerDaemonJson { get; init; } = EnvFiles.DockerDaemonJson.DefaultPath;
    public bool IpMasq { get; init; }
    public bool VxlanChecksumOffload { get; init; } = true;
    public Backends.Udp.UdpSourceCheck UdpSourceCheck { get; init; } = Backends.Udp.UdpSourceCheck.Strict;
    public bool IptablesForwardRules { get; init; } = true;
    public bool IpMasqRandomFully { get; init; } = true;
    public TimeSpan IptablesResync { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan RenewMargin { get; init; } = TimeSpan.FromMinutes(60);
    public string HealthzIp { get; init; } = "0.0.0.0";
    public int HealthzPort { get; init; }
    public DBusOptions DBus { get; init; } = new();

    public static DaemonSettings From(DaemonFlags f) => new()
    {
        Etcd = f.Etcd.ToOptions(),
        Interface = new InterfaceOptions
        {
            Ifaces = f.Iface.Value,
            IfaceRegexes = f.IfaceRegex.Value,
            IfaceCanReach = f.IfaceCanReach.Value.Length == 0 ? null : f.IfaceCanReach.Value,
            PublicIp = f.PublicIp.Value.Length == 0 ? null : f.PublicIp.Value,
            PublicIpv6 = f.PublicIpv6.Value.Length == 0 ? null : f.PublicIpv6.Value,
        },
        SubnetFile = f.SubnetFile.Value,
        DockerOptsFile = f.DockerOptsFile.Value.Length == 0 ? null : f.DockerOptsFile.Value,
        DockerDaemonJson = f.DockerDaemonJson.Value.Length == 0 ? null : f.DockerDaemonJson.Value,
        IpMasq = f.IpMasq.Value,
        VxlanChecksumOffload = f.VxlanCsumOffload.Value,
        // Validate() has refused anything else; an unparsable value cannot get here.
        UdpSourceCheck = Backends.Udp.UdpSourceCheckNames.TryParse(f.UdpSourceCheck.Value, out var check) ? check : Backends.Udp.UdpSourceCheck.Strict,
        IptablesForwardRules = f.IptablesForwardRules.Value,
        IpMasqRandomFully = !f.IpMasqRandomFullyDisable.Value,
        IptablesResync = TimeSpan.FromSeconds(Math.Max(1, f.IptablesResync.Value)),
        RenewMargin = TimeSpan.FromMinutes(f.RenewMargin.Value),
        HealthzIp = f.HealthzIp.Value,
        HealthzPort = f.HealthzPort.Value,
        DBus = new DBusOptions
        {
            Firewalld = f.Firewalld.Value,
            NetworkManagerUnmanaged = f.NetworkManagerUnmanaged.Value,
            RestartDockerOnSubnetChange = f.RestartDockerOnSubnetChange.Value,
        },
    };
}
