using System.Net.NetworkInformation;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// One change for <see cref="RtnetlinkClient.Batch"/>: the same message the single-request method of that name sends.
/// Immutable; may be reused and shared.
/// </summary>
public sealed class NetlinkRequest
{
    private NetlinkRequest(NetlinkMessageBuilder builder, string operation)
    {
        // A copy: the batch patches flags and sequence numbers into its own buffer, never into this.
        Message = builder.Message.ToArray();
        Operation = operation;
    }

    /// <summary>What the request does, as a failure's <see cref="NetlinkException.Operation"/> names it.</summary>
    public string Operation { get; }

    internal ReadOnlyMemory<byte> Message { get; }

    /// <summary>As <see cref="RtnetlinkClient.ReplaceNeighbour"/>.</summary>
    public static NetlinkRequest ReplaceNeighbour(int linkIndex, IpAddress address, PhysicalAddress mac)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        ArgumentNullException.ThrowIfNull(mac);
        return new(
            RtnetlinkRequests.Neighbour(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, linkIndex, address, mac),
            $"replace neighbour {address} lladdr {MacText.Format(mac)} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.DeleteNeighbour"/>.</summary>
    public static NetlinkRequest DeleteNeighbour(int linkIndex, IpAddress address)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        return new(RtnetlinkRequests.Neighbour(RTM_DELNEIGH, 0, linkIndex, address, null), $"delete neighbour {address} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.ReplaceFdb"/>.</summary>
    public static NetlinkRequest ReplaceFdb(int linkIndex, PhysicalAddress mac, IpAddress destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        ArgumentNullException.ThrowIfNull(mac);
        return new(
            RtnetlinkRequests.Fdb(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, linkIndex, mac, destination),
            $"replace fdb {MacText.Format(mac)} dst {destination} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.DeleteFdb"/>.</summary>
    public static NetlinkRequest DeleteFdb(int linkIndex, PhysicalAddress mac, IpAddress destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        ArgumentNullException.ThrowIfNull(mac);
        return new(
            RtnetlinkRequests.Fdb(RTM_DELNEIGH, 0, linkIndex, mac, destination),
            $"delete fdb {MacText.Format(mac)} dst {destination} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.AddAddress"/>.</summary>
    public static NetlinkRequest AddAddress(int linkIndex, IpNetwork address)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        return new(RtnetlinkRequests.Address(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, linkIndex, address), $"add address {address} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.DeleteAddress"/>.</summary>
    public static NetlinkRequest DeleteAddress(int linkIndex, IpNetwork address)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkIndex);
        return new(RtnetlinkRequests.Address(RTM_DELADDR, 0, linkIndex, address), $"delete address {address} dev #{linkIndex}");
    }

    /// <summary>As <see cref="RtnetlinkClient.ReplaceRoute"/>.</summary>
    public static NetlinkRequest ReplaceRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return new(RtnetlinkRequests.Route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route), $"replace route {route}");
    }

    /// <summary>As <see cref="RtnetlinkClient.DeleteRoute"/>.</summary>
    public static NetlinkRequest DeleteRoute(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return new(RtnetlinkRequests.Route(RTM_DELROUTE, 0, route), $"delete route {route}");
    }

    public override string ToString() => Operation;
}
