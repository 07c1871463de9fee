namespace Flannel.Backends.Udp;

/// <summary>
/// How the wire-to-TUN direction decides that a datagram may enter the overlay (<c>--udp-source-check</c>, per host).
/// Every mode still drops what does not parse as IPv4 and what has no TTL left.
/// </summary>
public enum UdpSourceCheck
{
    /// <summary>
    /// The default: the outer source must be the PublicIP of the peer whose subnet holds the inner source. Breaks for a
    /// peer whose <c>--public-ip</c> is not its interface address: flanneld, like this daemon, binds its socket to the
    /// interface address and so sends from it.
    /// </summary>
    Strict,

    /// <summary>
    /// Any outer source, but the inner source must be inside some peer's subnet: nothing from outside the overlay, and
    /// nothing claiming this host's own subnet, gets in; a host that can reach the port can still speak for any peer.
    /// </summary>
    Subnet,

    /// <summary>flanneld's behaviour: whatever parses as IPv4 is written into the TUN.</summary>
    Off,
}
