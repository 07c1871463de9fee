namespace Flannel.Daemon.Commands.Status;

/// <summary>The network config in effect and the device its backend uses.</summary>
/// <param name="Device">flannel.VNI for vxlan, flannel0 for udp, null for host-gw.</param>
/// <param name="DevicePresent">Whether that device exists (true when there is none to have).</param>
/// <param name="Ipv6Network">The IPv6Network when EnableIPv6, else null.</param>
internal sealed record StatusConfig(
    string Key,
    string Network,
    int SubnetLen,
    string SubnetMin,
    string SubnetMax,
    string BackendType,
    string Backend,
    string? Device,
    bool DevicePresent,
    string? Ipv6Network = null);
