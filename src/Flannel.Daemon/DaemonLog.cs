using Microsoft.Extensions.Logging;

namespace Flannel.Daemon;

/// <summary>Log events of the daemon (event ids 3000-3099, stable).</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(3000, LogLevel.Information, "flanneld {Version} starting (etcd {Endpoints}, prefix {Prefix})")]
    public static partial void Starting(ILogger log, string version, string endpoints, string prefix);

    [LoggerMessage(3001, LogLevel.Information, "Using interface {Interface} (index {Index}, MTU {Mtu}) with address {Address}, public IP {PublicIP}: {Reason}")]
    public static partial void InterfaceChosen(ILogger log, string @interface, int index, int mtu, string address, string publicIp, string reason);

    [LoggerMessage(3002, LogLevel.Information, "Backend {Backend}: MTU {Mtu}, lease attrs {Attrs}")]
    public static partial void BackendRegistered(ILogger log, string backend, int mtu, string attrs);

    [LoggerMessage(3003, LogLevel.Information, "Wrote {Path}: FLANNEL_SUBNET for {Subnet}, FLANNEL_MTU={Mtu}")]
    public static partial void WroteSubnetFile(ILogger log, string path, string subnet, int mtu);

    [LoggerMessage(3004, LogLevel.Information, "Wrote docker options to {Path}")]
    public static partial void WroteDockerOpts(ILogger log, string path);

    [LoggerMessage(3005, LogLevel.Information, "Ready: subnet {Subnet} with backend {Backend}, {ElapsedMs} ms after start")]
    public static partial void Ready(ILogger log, string subnet, string backend, long elapsedMs);

    [LoggerMessage(3006, LogLevel.Critical, "{Loop} failed; stopping the daemon")]
    public static partial void LoopFailed(ILogger log, string loop, Exception e);

    [LoggerMessage(3007, LogLevel.Critical, "flanneld failed to start: {Reason}")]
    public static partial void StartFailed(ILogger log, string reason);

    [LoggerMessage(3008, LogLevel.Warning, "Our subnet changed from {OldSubnet} to {Subnet}; subnet.env is rewritten, but dockerd still runs with the stale --bip until `systemctl restart docker` (or run flanneld with --restart-docker-on-subnet-change)")]
    public static partial void SubnetChanged(ILogger log, string oldSubnet, string subnet);

    [LoggerMessage(3012, LogLevel.Warning, "{Problem}")]
    public static partial void DockerDaemonJsonClash(ILogger log, string problem);

    [LoggerMessage(3013, LogLevel.Warning, "Cannot check {Path} for settings that clash with the docker options: {Reason}")]
    public static partial void DockerDaemonJsonUnreadable(ILogger log, string path, string reason);

    [LoggerMessage(3009, LogLevel.Information, "Stopping: the lease {Subnet} is kept for the next start; kernel routes stay in place")]
    public static partial void Stopping(ILogger log, string subnet);

    [LoggerMessage(3010, LogLevel.Information, "Health endpoints /healthz and /readyz on {Prefix}")]
    public static partial void HealthListening(ILogger log, string prefix);

    [LoggerMessage(3011, LogLevel.Debug, "Health request failed: {Reason}")]
    public static partial void HealthRequestFailed(ILogger log, string reason);

    [LoggerMessage(3014, LogLevel.Information, "Ended {Count} etcd connection(s) made from {Address}, which this host no longer has; calls go on over new ones")]
    public static partial void EtcdConnectionsDropped(ILogger log, int count, string address);

    [LoggerMessage(3015, LogLevel.Information, "Network config: Network {Network}, backend {Backend} ({Choice})")]
    public static partial void ConfigChosen(ILogger log, string network, string backend, string choice);

    [LoggerMessage(3016, LogLevel.Warning, "Network config: {Warning}")]
    public static partial void BackendOptionUnknown(ILogger log, string warning);

    // 3019 (a config this version could not route: IPv6 before issue 17) is retired.

    [LoggerMessage(3020, LogLevel.Information, "Using interface {Name} with IPv6 address {Address6}, publishing PublicIPv6 {PublicIPv6}")]
    public static partial void InterfaceIpv6Chosen(ILogger log, string name, string address6, string publicIpv6);

    [LoggerMessage(3017, LogLevel.Information, "Stopped while starting ({Phase}), as asked (SIGTERM or SIGINT)")]
    public static partial void StoppedWhileStarting(ILogger log, string phase);

    [LoggerMessage(3018, LogLevel.Debug, "Start failure in detail")]
    public static partial void StartFailedDetail(ILogger log, Exception e);
}
