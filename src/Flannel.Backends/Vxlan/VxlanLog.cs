using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>Log events of the vxlan backend (event ids 2150-2199, stable).</summary>
internal static partial class VxlanLog
{
    [LoggerMessage(2150, LogLevel.Information, "vxlan: reusing {Device} with its MAC {VtepMac}")]
    public static partial void DeviceReused(ILogger log, string device, string vtepMac);

    [LoggerMessage(2151, LogLevel.Warning, "vxlan: {Device} exists but does not match the config ({Existing}): recreating it")]
    public static partial void DeviceIncompatible(ILogger log, string device, string existing);

    [LoggerMessage(2152, LogLevel.Information, "vxlan: created {Device} MAC {VtepMac} VNI {Vni} on {Parent} port {Port}")]
    public static partial void DeviceCreated(ILogger log, string device, string vtepMac, uint vni, string parent, int port);

    [LoggerMessage(2153, LogLevel.Information, "vxlan: tx checksum offload turned off on {Device}: {Reason}")]
    public static partial void ChecksumOffloadOff(ILogger log, string device, string reason);

    [LoggerMessage(2154, LogLevel.Warning, "vxlan: could not turn tx checksum offload off on {Device}: {Reason}")]
    public static partial void ChecksumOffloadFailed(ILogger log, string device, string reason);

    [LoggerMessage(2155, LogLevel.Information, "vxlan: peer {Subnet} at {Peer} programmed ({How})")]
    public static partial void PeerAdded(ILogger log, string subnet, string peer, string how);

    [LoggerMessage(2156, LogLevel.Information, "vxlan: peer {Subnet} at {Peer} removed")]
    public static partial void PeerRemoved(ILogger log, string subnet, string peer);

    [LoggerMessage(2157, LogLevel.Warning, "vxlan: ignoring peer {Subnet}: {Reason}")]
    public static partial void PeerIgnored(ILogger log, string subnet, string reason);

    [LoggerMessage(2158, LogLevel.Error, "vxlan: programming peer {Subnet} failed, rolled back, retrying at the next reconcile: {Reason}")]
    public static partial void PeerFailed(ILogger log, string subnet, string reason);

    [LoggerMessage(2159, LogLevel.Information, "vxlan: DirectRouting for peer {Subnet}: {Decision}")]
    public static partial void DirectRoutingDecision(ILogger log, string subnet, string decision);

    [LoggerMessage(2160, LogLevel.Warning, "vxlan: repaired {Count} kernel entries that differed from the leases ({What})")]
    public static partial void Repaired(ILogger log, int count, string what);

    [LoggerMessage(2161, LogLevel.Information, "vxlan: programmed {Peers} peers ({Entries} kernel entries) in {Milliseconds} ms")]
    public static partial void Programmed(ILogger log, int peers, int entries, long milliseconds);

    [LoggerMessage(2162, LogLevel.Warning, "vxlan: reconcile failed, retrying in 10 s: {Reason}")]
    public static partial void ReconcileFailed(ILogger log, string reason);

    [LoggerMessage(2163, LogLevel.Warning,
        "vxlan: {What}; created {Device} again with VtepMAC {VtepMac}, its address and {Peers} peers ({Entries} entries in one batch); traffic through it was down {DownMs:F0} ms")]
    public static partial void DeviceRecovered(ILogger log, string what, string device, string vtepMac, int peers, int entries, double downMs);

    [LoggerMessage(2164, LogLevel.Error, "vxlan: {What}; creating it again failed, retrying on the next change or in 10 s: {Reason}")]
    public static partial void DeviceRecoveryFailed(ILogger log, string what, string reason);
}
