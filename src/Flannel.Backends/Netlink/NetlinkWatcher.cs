using System.Net.Sockets;
using System.Runtime.CompilerServices;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Receives rtnetlink change events (routes, links, addresses, neighbours) asynchronously on a socket of its own.
/// </summary>
/// <remarks>
/// Subscribed from <see cref="Open(NetlinkGroups)"/> on, in the calling thread's network namespace: open the watcher
/// first, then list the current state, and no change can fall between the two. When the kernel had to drop events
/// the stream yields <see cref="EventsLost"/> and goes on; the caller should resync. One reader at a time.
/// </remarks>
internal sealed class NetlinkWatcher : IDisposable
{
    // Notifications are built with nlmsg_new() sized to the one message they carry, far below this.
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Socket _socket;

    private NetlinkWatcher(Socket socket) => _socket = socket;

    /// <exception cref="NetlinkException">The socket could not be created, bound or subscribed.</exception>
    public static NetlinkWatcher Open(NetlinkGroups groups) => Open(groups, NetlinkSockets.DefaultReceiveBufferBytes);

    /// <summary>With a chosen receive buffer (a tiny one lets tests provoke ENOBUFS).</summary>
    internal static NetlinkWatcher Open(NetlinkGroups groups, int receiveBufferBytes)
    {
        if (groups == NetlinkGroups.None)
        {
            throw new ArgumentException("no group to watch", nameof(groups));
        }
        var handle = NetlinkSockets.Open(receiveBufferBytes);
        SafeSocketHandle socketHandle;
        try
        {
            foreach (var (group, kernelGroup) in new[]
                     {
                         (NetlinkGroups.Links, RTNLGRP_LINK),
                         (NetlinkGroups.Ipv4Addresses, RTNLGRP_IPV4_IFADDR),
                         (NetlinkGroups.Ipv4Routes, RTNLGRP_IPV4_ROUTE),
                         (NetlinkGroups.Neighbours, RTNLGRP_NEIGH),
                         (NetlinkGroups.Ipv6Addresses, RTNLGRP_IPV6_IFADDR),
                         (NetlinkGroups.Ipv6Routes, RTNLGRP_IPV6_ROUTE),
                     })
            {
                if ((groups & group) != 0)
                {
                    NetlinkSockets.JoinGroup(handle, kernelGroup);
                }
            }
            // .NET cannot create an AF_NETLINK Socket itself, but adopts a descriptor made elsewhere; then receives
            // go through its epoll engine and honour cancellation.
            socketHandle = new SafeSocketHandle(handle.TransferOwnership(), ownsHandle: true);
        }
        finally
        {
            handle.Dispose();
        }
        try
        {
            return new NetlinkWatcher(new Socket(socketHandle));
        }
        catch
        {
            socketHandle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The events, in the kernel's order, until <paramref name="cancellationToken"/> is cancelled (which throws
    /// <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <exception cref="SocketException">The socket failed for a reason other than lost events.</exception>
    /// <exception cref="FormatException">The kernel sent a malformed message.</exception>
    public async IAsyncEnumerable<NetlinkEvent> ReadEventsAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                // ENOBUFS: netlink_overrun() found the queue full and dropped a notification. The error is
                // reported once; the queue still holds the events that did fit, and new ones keep arriving.
                received = -1;
            }
            if (received < 0)
            {
                yield return EventsLost.Instance;
                continue;
            }
            foreach (var netlinkEvent in Decode(_buffer.AsSpan(0, received)))
            {
                yield return netlinkEvent;
            }
        }
    }

    public void Dispose() => _socket.Dispose();

    private static List<NetlinkEvent> Decode(ReadOnlySpan<byte> datagram)
    {
        var events = new List<NetlinkEvent>();
        foreach (var message in new NetlinkMessageReader(datagram))
        {
            switch (message.Type)
            {
                case RTM_NEWROUTE or RTM_DELROUTE when RtnetlinkMessages.TryReadMainRoute(message, out var route):
                    events.Add(new RouteEvent(message.Type == RTM_DELROUTE, route));
                    break;
                case RTM_NEWLINK or RTM_DELLINK when RtnetlinkMessages.TryReadLink(message, out var link):
                    events.Add(new LinkEvent(message.Type == RTM_DELLINK, link));
                    break;
                case RTM_NEWADDR or RTM_DELADDR when RtnetlinkMessages.TryReadAddress(message, out var address):
                    events.Add(new AddressEvent(message.Type == RTM_DELADDR, address));
                    break;
                case RTM_NEWNEIGH or RTM_DELNEIGH when RtnetlinkMessages.TryReadNeighbour(message, out var n):
                    events.Add(new NeighbourEvent(n.Deleted, n.LinkIndex, n.Family, n.Address, n.Mac));
                    break;
            }
        }
        return events;
    }
}
