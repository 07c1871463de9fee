using Microsoft.Extensions.Logging;

namespace Flannel.Subnet;

/// <summary>Log events of the subnet layer (event ids 1000-1099, stable: operators filter on them).</summary>
internal static partial class SubnetLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Ignoring bad subnet node {Key}: not a flannel subnet key")]
    public static partial void BadSubnetKey(ILogger log, string key);

    [LoggerMessage(1001, LogLevel.Warning, "Ignoring lease {Subnet}: {Reason}")]
    public static partial void BadLeaseValue(ILogger log, string subnet, string reason);

    [LoggerMessage(1002, LogLevel.Debug, "Could not revoke etcd lease {EtcdLease}: {Reason}")]
    public static partial void RevokeFailed(ILogger log, long etcdLease, string reason);

    [LoggerMessage(1010, LogLevel.Warning, "Network config {Key} not found in etcd (the etcd v3 keyspace is read: a config written with the v2 API, `etcdctl set`, is not seen); retrying every second")]
    public static partial void ConfigMissing(ILogger log, string key);

    [LoggerMessage(1014, LogLevel.Warning, "The etcd v2 keyspace has a network config at {Key} (written by flanneld up to v0.17 or `etcdctl set`): {Config}. Copy it to v3 with `flanneld migrate-v2 --apply` (add --leases to keep the subnets)")]
    public static partial void ConfigOnlyInV2(ILogger log, string key, string config);

    [LoggerMessage(1011, LogLevel.Error, "Network config {Key} is invalid: {Reason}; retrying every second")]
    public static partial void ConfigInvalid(ILogger log, string key, string reason);

    [LoggerMessage(1012, LogLevel.Warning, "Network config: {Warning}")]
    public static partial void ConfigWarning(ILogger log, string warning);

    [LoggerMessage(1013, LogLevel.Warning, "Cannot read network config from etcd: {Reason}; retrying every second")]
    public static partial void ConfigUnreachable(ILogger log, string reason);

    [LoggerMessage(1020, LogLevel.Information, "Found lease {Subnet} for current IP {PublicIP}, reusing")]
    public static partial void ReusingLease(ILogger log, string subnet, string publicIp);

    [LoggerMessage(1021, LogLevel.Warning, "Lease {Subnet} held for our IP {PublicIP} is not compatible with the network config; deleting it")]
    public static partial void DeletingIncompatibleLease(ILogger log, string subnet, string publicIp);

    [LoggerMessage(1022, LogLevel.Information, "Acquired lease {Subnet} (public IP {PublicIP}, backend {Backend}) in {ElapsedMs} ms")]
    public static partial void Acquired(ILogger log, string subnet, string publicIp, string backend, long elapsedMs);

    [LoggerMessage(1023, LogLevel.Information, "Subnet {Subnet} was taken by another host meanwhile; trying again (attempt {Attempt} of {Max})")]
    public static partial void LostRace(ILogger log, string subnet, int attempt, int max);

    [LoggerMessage(1024, LogLevel.Information, "Previous subnet {Subnet} from the subnet file is {State}")]
    public static partial void PreviousSubnet(ILogger log, string subnet, string state);

    [LoggerMessage(1025, LogLevel.Information, "Renewed lease {Subnet}, now expires {Expiration:o}")]
    public static partial void Renewed(ILogger log, string subnet, DateTimeOffset expiration);

    [LoggerMessage(1026, LogLevel.Warning, "Renewing lease {Subnet} failed: {Reason}; retrying in {RetrySeconds} s")]
    public static partial void RenewFailed(ILogger log, string subnet, string reason, double retrySeconds);

    [LoggerMessage(1030, LogLevel.Information, "Renewal attempt {Attempt} for lease {Subnet} failed: {Reason}; trying again in {RetrySeconds} s")]
    public static partial void RenewAttemptFailed(ILogger log, string subnet, string reason, int attempt, double retrySeconds);

    [LoggerMessage(1027, LogLevel.Critical, "Our lease {Subnet} disappeared from etcd (deleted or expired); re-acquiring it now")]
    public static partial void LeaseLost(ILogger log, string subnet);

    [LoggerMessage(1028, LogLevel.Warning, "Re-acquired lease as {Subnet} (previous {Previous}){Note}")]
    public static partial void Reacquired(ILogger log, string subnet, string previous, string note);

    [LoggerMessage(1029, LogLevel.Warning, "Re-acquiring the lease failed: {Reason}; retrying in 1 s")]
    public static partial void ReacquireFailed(ILogger log, string reason);

    [LoggerMessage(1040, LogLevel.Information, "Peer lease added: {Peer} (public IP {PublicIP}, backend {Backend})")]
    public static partial void PeerAdded(ILogger log, string peer, string publicIp, string backend);

    [LoggerMessage(1041, LogLevel.Information, "Peer lease removed: {Peer} (public IP {PublicIP})")]
    public static partial void PeerRemoved(ILogger log, string peer, string publicIp);

    [LoggerMessage(1042, LogLevel.Warning, "Lease watch interrupted: {Reason}; resuming from revision {Revision} in {DelayMs} ms")]
    public static partial void WatchInterrupted(ILogger log, string reason, long revision, long delayMs);

    [LoggerMessage(1043, LogLevel.Warning, "Lease watch revision {Revision} was compacted; listing all leases again")]
    public static partial void WatchCompacted(ILogger log, long revision);

    [LoggerMessage(1044, LogLevel.Information, "Lease resync found {Changes} change(s) the watch had not delivered")]
    public static partial void ResyncRepaired(ILogger log, int changes);

    [LoggerMessage(1055, LogLevel.Warning, "Lease {Subnet} now published with PublicIP {PublicIP} (was {Previous}): the external interface's address changed; same subnet, peers follow")]
    public static partial void AttrsUpdated(ILogger log, string subnet, string previous, string publicIp);
}
