namespace Flannel.Backends.Udp;

/// <summary>Why the udp pump dropped a packet; each has its own counter.</summary>
public enum DropReason
{
    /// <summary>Shorter than an IPv4 header (flanneld drops these too).</summary>
    TooShort,

    /// <summary>Not IPv4 (the kernel writes IPv6 router solicitations and MLD into the TUN).</summary>
    NotIpv4,

    /// <summary>No peer subnet holds the destination (an ICMP net-unreachable went back unless it was ICMP).</summary>
    NoRoute,

    /// <summary>The TTL reached 0.</summary>
    TtlExpired,

    /// <summary>
    /// A datagram no peer can be held to: under <c>--udp-source-check=strict</c> its outer source is neither any peer's
    /// PublicIP nor the PublicIP of the peer whose subnet holds its inner source; under <c>subnet</c> its inner source
    /// is in no peer's subnet (and its outer source is no peer's PublicIP).
    /// </summary>
    UnknownPeer,

    /// <summary>A datagram from a peer's PublicIP whose inner source is outside the subnet(s) that peer may speak for.</summary>
    SpoofedSource,

    /// <summary>A TUN read whose offload (virtio) header or TSO layout is inconsistent.</summary>
    BadOffload,

    /// <summary>The kernel refused the send (sendmmsg error other than a full buffer).</summary>
    SendFailed,

    /// <summary>The kernel refused a TUN write for a reason not listed below (EINVAL, EFAULT, ...).</summary>
    TunWriteFailed,

    /// <summary>A TUN write failed with EAGAIN: the device's send budget (sk_sndbuf) is used up by packets in flight.</summary>
    TunFull,

    /// <summary>A TUN write failed with EIO: the device is administratively down (reconciliation sets it up again).</summary>
    TunDown,

    /// <summary>The TUN device was deleted under us (EBADFD on the write): nothing can be written until it is re-created.</summary>
    TunGone,
}
