namespace Flannel.Daemon.Cli;

/// <summary>Every flanneld flag that applies in etcd mode (compat §3), plus ours, grouped as the README lists them.</summary>
internal sealed class DaemonFlags
{
    public const string NetworkGroup = "network";
    public const string LeaseGroup = "lease and files";
    public const string RulesGroup = "iptables";
    public const string OpsGroup = "operations";
    public const string HostGroup = "host integration (D-Bus)";
    public const string KubeGroup = "kubernetes (not supported)";

    public DaemonFlags()
    {
        Set = new FlagSet();
        Etcd = new EtcdFlags(Set);
        Iface = Set.List("iface", "interface to use (IP or name) for inter-host communication; repeat to try several in order", NetworkGroup);
        IfaceRegex = Set.List("iface-regex", "regex matching the interface IP first, then the interface name; repeatable", NetworkGroup);
        IfaceCanReach = Set.Text("iface-can-reach", "", "use the interface the kernel routes this IP through", NetworkGroup);
        PublicIp = Set.Text("public-ip", "", "IP accessible by other nodes for inter-host communication (default: the interface address)", NetworkGroup);
        PublicIpv6 = Set.Text("public-ipv6", "", "IPv6 accessible by other nodes for inter-host communication", NetworkGroup);
        VxlanCsumOffload = Set.Switch("vxlan-csum-offload", true, "keep tx checksum offload on the vxlan device (always off on kernels before 5.7: flannel #1279)", NetworkGroup);
        UdpSourceCheck = Set.Text("udp-source-check", Backends.Udp.UdpSourceCheckNames.Strict,
            "udp backend: strict (a datagram's outer source must be the PublicIP of the peer whose subnet holds its inner source), " +
            "subnet (any outer source, the inner source inside a peer's subnet: for peers whose --public-ip is not their interface address), " +
            "off (anything, as flanneld)", NetworkGroup);
        SubnetFile = Set.Text("subnet-file", Subnet.SubnetFile.DefaultPath, "filename where env variables (subnet, MTU, ...) will be written to", LeaseGroup);
        RenewMargin = Set.Number("subnet-lease-renew-margin", 60, "subnet lease renewal margin, in minutes (1..1439)", LeaseGroup);
        DockerOptsFile = Set.Text("docker-opts-file", "", "also write dockerd's options (as mk-docker-opts.sh does) to this file before READY", LeaseGroup);
        DockerDaemonJson = Set.Text("docker-daemon-json", EnvFiles.DockerDaemonJson.DefaultPath,
            "warn when this dockerd config also sets bip, mtu or ip-masq (dockerd then refuses to start); empty: no check", LeaseGroup);
        IpMasq = Set.Switch("ip-masq", false, "setup IP masquerade rule for traffic destined outside of overlay network", RulesGroup);
        IptablesResync = Set.Number("iptables-resync", 5, "resync period for iptables rules, in seconds", RulesGroup);
        IptablesForwardRules = Set.Switch("iptables-forward-rules", true, "add default accept rules to FORWARD chain in iptables", RulesGroup);
        IpMasqRandomFullyDisable = Set.Switch("ip-masq-fully-random-disable", false, "disable --random-fully in the MASQUERADE rule", RulesGroup);
        HealthzIp = Set.Text("healthz-ip", "0.0.0.0", "the IP address for healthz server to listen on", OpsGroup);
        HealthzPort = Set.Number("healthz-port", 0, "the port for healthz server to listen on (0 to disable)", OpsGroup);
        LogLevel = Set.Text("log-level", "info", "least severe level logged: debug, info, warning, error", OpsGroup);
        Verbosity = Set.Number("v", 0, "klog verbosity (accepted for compatibility; -v=1 or more logs at debug level)", OpsGroup);
        Version = Set.Switch("version", false, "print version and exit", OpsGroup);
        Firewalld = Set.Switch("firewalld", true, "when firewalld runs, open the backend's UDP port in the external interface's zone (runtime config only)", HostGroup);
        NetworkManagerUnmanaged = Set.Switch("networkmanager-unmanaged", true, "when NetworkManager runs, mark the flannel device unmanaged", HostGroup);
        RestartDockerOnSubnetChange = Set.Switch("restart-docker-on-subnet-change", false, "restart docker.service through systemd when our subnet changed since subnet.env was last written", HostGroup);
        KubeSubnetMgr = Set.Switch("kube-subnet-mgr", false, "contact the Kubernetes API for subnet assignment instead of etcd", KubeGroup);
        KubeApiUrl = Set.Text("kube-api-url", "", "Kubernetes API server URL", KubeGroup);
        KubeconfigFile = Set.Text("kubeconfig-file", "", "kubeconfig file location", KubeGroup);
        KubeAnnotationPrefix = Set.Text("kube-annotation-prefix", "flannel.alpha.coreos.com", "Kubernetes annotation prefix", KubeGroup);
        NetConfigPath = Set.Text("net-config-path", "/etc/kube-flannel/net-conf.json", "path to the network configuration file (Kubernetes mode)", KubeGroup);
        SetNodeNetworkUnavailable = Set.Switch("set-node-network-unavailable", true, "set the node's NetworkUnavailable condition (Kubernetes mode)", KubeGroup);
    }

    public FlagSet Set { get; }
    public EtcdFlags Etcd { get; }
    public Flag<IReadOnlyList<string>> Iface { get; }
    public Flag<IReadOnlyList<string>> IfaceRegex { get; }
    public Flag<string> IfaceCanReach { get; }
    public Flag<string> PublicIp { get; }
    public Flag<string> PublicIpv6 { get; }
    public Flag<string> SubnetFile { get; }
    public Flag<int> RenewMargin { get; }
    public Flag<string> DockerOptsFile { get; }
    public Flag<string> DockerDaemonJson { get; }
    public Flag<bool> IpMasq { get; }

    public Flag<bool> VxlanCsumOffload { get; }
    public Flag<string> UdpSourceCheck { get; }
    public Flag<int> IptablesResync { get; }
    public Flag<bool> IptablesForwardRules { get; }
    public Flag<bool> IpMasqRandomFullyDisable { get; }
    public Flag<string> HealthzIp { get; }
    public Flag<int> HealthzPort { get; }
    public Flag<string> LogLevel { get; }
    public Flag<int> Verbosity { get; }
    public Flag<bool> Version { get; }
    public Flag<bool> Firewalld { get; }
    public Flag<bool> NetworkManagerUnmanaged { get; }
    public Flag<bool> RestartDockerOnSubnetChange { get; }
    public Flag<bool> KubeSubnetMgr { get; }
    public Flag<string> KubeApiUrl { get; }
    public Flag<string> KubeconfigFile { get; }
    public Flag<string> KubeAnnotationPrefix { get; }
    public Flag<string> NetConfigPath { get; }
    public Flag<bool> SetNodeNetworkUnavailable { get; }

    /// <summary>Checks what the parser cannot: ranges, and flags this daemon accepts but refuses.</summary>
    /// <returns>An error message, or null when the flags are usable.</returns>
    public string? Validate()
    {
        if (RenewMargin.Value is < 1 or > 1439)
        {
            return "Invalid subnet-lease-renew-margin option, out of acceptable range";
        }
        var kube = Set.Flags.Where(f => f.Group == KubeGroup && f.IsSet).Select(f => "--" + f.Name).ToList();
        if (kube.Count > 0)
        {
            return $"Kubernetes mode is not supported: flannel-cs uses etcd only (given: {string.Join(", ", kube)})";
        }
        if (HealthzPort.Value is < 0 or > 65535)
        {
            return $"invalid --healthz-port {HealthzPort.Value}";
        }
        if (IptablesResync.Value < 1)
        {
            return "--iptables-resync must be at least 1 second";
        }
        if (!Backends.Udp.UdpSourceCheckNames.TryParse(UdpSourceCheck.Value, out _))
        {
            return $"invalid --udp-source-check {UdpSourceCheck.Value}: use strict, subnet or off";
        }
        if (LogLevel.Value.ToLowerInvariant() is not ("debug" or "info" or "information" or "warning" or "warn" or "error"))
        {
            return $"invalid --log-level {LogLevel.Value}: use debug, info, warning or error";
        }
        return null;
    }
}
