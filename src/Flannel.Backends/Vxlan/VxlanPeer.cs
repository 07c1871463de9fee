using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// What one peer needs in the kernel: normally neighbour (peer .0 -> VtepMAC, PERMANENT), FDB (VtepMAC -> PublicIP,
/// self, PERMANENT) and <c>subnet via .0 dev flannel.N onlink</c>, in flanneld's order; with DirectRouting to a peer on
/// our L2 network only <c>subnet via PublicIP</c>.
/// </summary>
internal sealed record VxlanPeer(Ip4Network Subnet, Ip4Address PublicIP, PhysicalAddress Mac, bool Direct)
{
    public Route RouteOn(int device) =>
        Direct ? Route.Via(Subnet, PublicIP) : Route.Via(Subnet, Subnet.Ip, device, onLink: true);

    public IEnumerable<NetlinkRequest> Program(int device)
    {
        if (!Direct)
        {
            yield return NetlinkRequest.ReplaceNeighbour(device, Subnet.Ip, Mac);
            yield return NetlinkRequest.ReplaceFdb(device, Mac, PublicIP);
        }
        yield return NetlinkRequest.ReplaceRoute(RouteOn(device));
    }

    /// <summary>The entries to remove, in reverse order of <see cref="Program"/>.</summary>
    public IEnumerable<NetlinkRequest> Unprogram(int device)
    {
        yield return NetlinkRequest.DeleteRoute(RouteOn(device));
        if (!Direct)
        {
            yield return NetlinkRequest.DeleteFdb(device, Mac, PublicIP);
            yield return NetlinkRequest.DeleteNeighbour(device, Subnet.Ip);
        }
    }

    public bool RouteMatches(Route r, int device) =>
        r.Destination == Subnet && (Direct ? r.Gateway == PublicIP : r.Gateway == Subnet.Ip && r.LinkIndex == device);

    public string How => Direct ? $"direct route via {PublicIP}" : $"VtepMAC {VxlanBackendData.FormatMac(Mac)}";
}
