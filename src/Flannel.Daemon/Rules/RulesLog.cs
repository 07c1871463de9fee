using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Rules;

internal static partial class RulesLog
{
    [LoggerMessage(3100, LogLevel.Information, "{Filter}: rules for network {Network}, subnet {Subnet} in place (masquerade {Masquerade}, forward {Forward})")]
    public static partial void Applied(ILogger log, string filter, string network, string subnet, bool masquerade, bool forward);

    [LoggerMessage(3101, LogLevel.Warning, "{Filter}: our rules had been changed by someone else; applied them again ({Changes})")]
    public static partial void Restored(ILogger log, string filter, string changes);

    [LoggerMessage(3102, LogLevel.Error, "{Filter}: checking the rules failed, retrying: {Reason}")]
    public static partial void Failed(ILogger log, string filter, string reason);

    [LoggerMessage(3103, LogLevel.Information, "{Filter}: removed {Count} rules of our network from {Other} (the mode not in use)")]
    public static partial void RemovedOther(ILogger log, string filter, int count, string other);

    [LoggerMessage(3104, LogLevel.Warning, "{Filter}: removing our rules from {Other} (the mode not in use) failed: {Reason}")]
    public static partial void RemoveOtherFailed(ILogger log, string filter, string other, string reason);
}
