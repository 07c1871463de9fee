using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Udp;

/// <summary>
/// Explains unknown-peer drops in the periodic drop log (never per packet): the last offending datagram's outer and
/// inner sources, and, when the inner source lies in a peer's subnet, that peer: the usual cause is a peer whose
/// <c>--public-ip</c> is not the address it sends from, and the message names the option that accepts it.
/// </summary>
internal static class UnknownPeerReport
{
    /// <summary>Logs the unknown-peer drop recorded since the previous call, if any.</summary>
    /// <returns>True when something was logged.</returns>
    public static bool LogIfAny(ILogger log, PumpCounters inbound, PeerTable peers)
    {
        if (inbound.TakeLastUnknownPeer() is not var (outer, inner))
        {
            return false;
        }
        long count = inbound.Drops(DropReason.UnknownPeer);
        string outerText = new Ip4Address(outer).ToString(), innerText = new Ip4Address(inner).ToString();
        int owner = peers.FindByDestination(inner);
        if (owner >= 0)
        {
            var peer = peers[owner];
            UdpLog.UnknownPeerClaimsPeerSubnet(log, count, outerText, innerText, peer.Subnet.ToString(), peer.PublicIP.ToString(),
                UdpSourceCheckNames.Subnet);
        }
        else
        {
            UdpLog.UnknownPeerOutsideOverlay(log, count, outerText, innerText);
        }
        return true;
    }
}
