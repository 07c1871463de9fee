namespace Flannel.Backends.Netlink;

/// <summary>
/// The kernel dropped events because the socket's receive queue was full (recvmsg failed with ENOBUFS): some changes
/// were never delivered, so the caller must list the current state again (resync) rather than trust its view.
/// </summary>
/// <remarks>
/// The kernel goes on dropping notifications until the reader has drained the events still queued (the socket stays
/// NETLINK_S_CONGESTED until netlink_rcv_wake() sees an empty queue), so keep reading, and resync after this event
/// rather than stopping the stream to do it.
/// </remarks>
internal sealed record EventsLost : NetlinkEvent
{
    public static EventsLost Instance { get; } = new();
}
