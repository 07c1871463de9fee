using Flannel.Backends.Interfaces;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends;

/// <summary>What a backend is given when the daemon starts (flannel's <c>backend.Backend</c> inputs).</summary>
public sealed record BackendContext(ExternalInterface Iface, NetworkConfig Config, ILoggerFactory Logs)
{
    /// <summary>Reports liveness of the backend's loops (the daemon's /healthz reads it).</summary>
    public ILoopHealth Health { get; init; } = NullLoopHealth.Instance;

    /// <summary>Every clock and delay of the backend's control loops.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>vxlan: keep tx checksum offload on the device (<c>--vxlan-csum-offload</c>, default true).</summary>
    public bool VxlanChecksumOffload { get; init; } = true;

    /// <summary>udp: what a received datagram's sources must satisfy (<c>--udp-source-check</c>, default strict).</summary>
    public Udp.UdpSourceCheck UdpSourceCheck { get; init; } = Udp.UdpSourceCheck.Strict;
}
