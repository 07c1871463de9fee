using Microsoft.Extensions.Logging;

namespace Flannel.Subnet.Leases;

/// <summary>Log events of peer validation and the config watch (event ids 1050-1059, stable).</summary>
internal static partial class LeaseLog
{
    [LoggerMessage(1050, LogLevel.Warning, "Ignoring peer lease {Subnet} (revision {Revision}): {Reason}")]
    public static partial void PeerRejected(ILogger log, string subnet, long revision, string reason);

    [LoggerMessage(1051, LogLevel.Error, "Network config {Key} changed in etcd but is invalid: {Reason}; keeping the running config")]
    public static partial void ConfigChangeInvalid(ILogger log, string key, string reason);

    [LoggerMessage(1052, LogLevel.Warning, "Network config {Key} changed in etcd: {Changes}; this cannot change while flanneld runs, restart flanneld to apply it; keeping the running config")]
    public static partial void ConfigChangeNeedsRestart(ILogger log, string key, string changes);

    [LoggerMessage(1053, LogLevel.Information, "Network config {Key} changed in etcd and is valid; it matches the running config, nothing to change")]
    public static partial void ConfigChangeMatches(ILogger log, string key);

    [LoggerMessage(1054, LogLevel.Warning, "Network config {Key} was deleted from etcd; keeping the running config")]
    public static partial void ConfigDeleted(ILogger log, string key);
}
