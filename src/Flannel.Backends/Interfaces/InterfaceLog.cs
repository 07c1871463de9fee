using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Interfaces;

/// <summary>Log events of the external interface monitor (event ids 2010-2019, stable).</summary>
internal static partial class InterfaceLog
{
    [LoggerMessage(2010, LogLevel.Warning, "External interface {Interface} is unusable: {Reason}; traffic to the peers stops until it is back")]
    public static partial void Lost(ILogger log, string @interface, string reason);

    [LoggerMessage(2011, LogLevel.Warning, "External interface {Interface} (index {Index}, address {Address}) in use again ({Change}; {Downtime}); the backend rebuilt what is bound to it")]
    public static partial void Back(ILogger log, string @interface, int index, string address, string change, string downtime);

    [LoggerMessage(2012, LogLevel.Error, "External interface {Interface} changed but rebuilding on it failed, retrying at the next change or in 10 s: {Reason}")]
    public static partial void RebuildFailed(ILogger log, string @interface, string reason);
}
