using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Udp;

/// <summary>Log events of the udp backend (event ids 2100-2149, stable).</summary>
internal static partial class UdpLog
{
    [LoggerMessage(2100, LogLevel.Information,
        "udp: device {Device} up, MTU {Mtu}, {Queues} queue(s), TSO reads {Tso}, UDP GRO {Gro}, port {Port}")]
    public static partial void DeviceReady(ILogger log, string device, int mtu, int queues, bool tso, bool gro, int port);

    [LoggerMessage(2101, LogLevel.Information, "udp: peer {Subnet} at {Peer} added")]
    public static partial void PeerAdded(ILogger log, string subnet, string peer);

    [LoggerMessage(2102, LogLevel.Information, "udp: peer {Subnet} at {Peer} removed")]
    public static partial void PeerRemoved(ILogger log, string subnet, string peer);

    [LoggerMessage(2103, LogLevel.Information, "udp: route {Route} installed")]
    public static partial void RouteEnsured(ILogger log, string route);

    [LoggerMessage(2104, LogLevel.Warning, "udp: reconciling the device failed, retrying in 10 s: {Reason}")]
    public static partial void ReconcileFailed(ILogger log, string reason);

    [LoggerMessage(2105, LogLevel.Information,
        "udp: packets tun->wire {Sent}, wire->tun {Received}; dropped since start: {Drops}")]
    public static partial void Traffic(ILogger log, long sent, long received, string drops);

    [LoggerMessage(2140, LogLevel.Warning, "udp: {What}; built again: {Rebuilt}; traffic through the pump was down {DownMs:F0} ms")]
    public static partial void Recovered(ILogger log, string what, string rebuilt, double downMs);

    [LoggerMessage(2141, LogLevel.Error, "udp: {What}; building it again failed, retrying on the next change or in 10 s: {Reason}")]
    public static partial void RecoveryFailed(ILogger log, string what, string reason);

    [LoggerMessage(2106, LogLevel.Warning,
        "udp: datagrams dropped as unknown-peer ({Count} since start); the last came from {OuterSource} with inner " +
        "source {InnerSource}, inside {Subnet}, the subnet of the peer whose lease says PublicIP {PublicIp}. That peer " +
        "probably runs with --public-ip different from its interface address (flanneld, like this daemon, sends from " +
        "the interface address). --udp-source-check={Relaxed} (FLANNELD_UDP_SOURCE_CHECK) on this host accepts its " +
        "traffic and still checks every inner source against the peers' subnets")]
    public static partial void UnknownPeerClaimsPeerSubnet(ILogger log, long count, string outerSource, string innerSource,
        string subnet, string publicIp, string relaxed);

    [LoggerMessage(2107, LogLevel.Information,
        "udp: datagrams dropped as unknown-peer ({Count} since start); the last came from {OuterSource} with inner " +
        "source {InnerSource}, which is in no peer's subnet (not overlay traffic of this network)")]
    public static partial void UnknownPeerOutsideOverlay(ILogger log, long count, string outerSource, string innerSource);
}
