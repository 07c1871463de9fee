using Microsoft.Extensions.Logging;

namespace Flannel.Backends;

/// <summary>Log events of the backends (event ids 2000-2099, stable).</summary>
internal static partial class BackendLog
{
    [LoggerMessage(2000, LogLevel.Information, "{Backend}: route added for peer {Peer}: {Route}")]
    public static partial void RouteAdded(ILogger log, string backend, string peer, string route);

    [LoggerMessage(2001, LogLevel.Information, "{Backend}: route removed for peer {Peer}: {Route}")]
    public static partial void RouteRemoved(ILogger log, string backend, string peer, string route);

    [LoggerMessage(2002, LogLevel.Warning, "{Backend}: ignoring peer {Peer} with backend type {PeerBackend}")]
    public static partial void IgnoringPeer(ILogger log, string backend, string peer, string peerBackend);

    [LoggerMessage(2003, LogLevel.Error, "{Backend}: failed to {Operation} route {Route}: {Reason}")]
    public static partial void RouteFailed(ILogger log, string backend, string operation, string route, string reason);

    [LoggerMessage(2004, LogLevel.Warning, "{Backend}: route recovered {Route} (it had been removed from the kernel)")]
    public static partial void RouteRecovered(ILogger log, string backend, string route);

    [LoggerMessage(2005, LogLevel.Warning, "{Backend}: peer {Peer} has no IPv6 route on this dual-stack network: {Reason}")]
    public static partial void PeerIpv4Only(ILogger log, string backend, string peer, string reason);
}
