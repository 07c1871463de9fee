using Flannel.Backends.Interop;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Opens NETLINK_ROUTE sockets. A netlink socket belongs to the network namespace of the thread that creates it, for
/// its whole life: open it on the thread (or in the process) whose namespace you mean to change.
/// </summary>
internal static unsafe class NetlinkSockets
{
    /// <summary>
    /// 4 MiB: a burst of route or link changes (a host with thousands of routes flapping) must not overflow the
    /// queue; the kernel's default (rmem_default, ~208 KiB) drops events with ENOBUFS much sooner.
    /// </summary>
    public const int DefaultReceiveBufferBytes = 4 * 1024 * 1024;

    /// <summary>A bound socket with extended acks on; the kernel assigns the port id.</summary>
    public static SafeFdHandle Open(int receiveBufferBytes)
    {
        int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
        {
            throw new NetlinkException("socket(AF_NETLINK, NETLINK_ROUTE)", LibC.errno);
        }
        var handle = new SafeFdHandle(fd);
        try
        {
            SetReceiveBuffer(handle, receiveBufferBytes);
            // Extended acks (Linux 4.12+) carry the kernel's reason, e.g. "Nexthop has invalid gateway". CAP_ACK
            // leaves the echo of our own request out of error replies. Both are best effort: an old kernel still
            // reports the errno.
            TrySetInt(handle, LibC.SOL_NETLINK, NETLINK_EXT_ACK, 1);
            TrySetInt(handle, LibC.SOL_NETLINK, NETLINK_CAP_ACK, 1);
            Bind(handle);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static void JoinGroup(SafeFdHandle handle, int group)
    {
        if (!TrySetInt(handle, LibC.SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group))
        {
            throw new NetlinkException($"join rtnetlink group {group}", LibC.errno);
        }
    }

    private static void SetReceiveBuffer(SafeFdHandle handle, int bytes)
    {
        // SO_RCVBUFFORCE (root / CAP_NET_ADMIN) ignores net.core.rmem_max; otherwise SO_RCVBUF is capped by it.
        if (!TrySetInt(handle, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, bytes)
            && !TrySetInt(handle, LibC.SOL_SOCKET, LibC.SO_RCVBUF, bytes))
        {
            throw new NetlinkException($"setsockopt(SO_RCVBUF, {bytes})", LibC.errno);
        }
    }

    private static void Bind(SafeFdHandle handle)
    {
        using var fd = handle.Borrow();
        var address = new sockaddr_nl { nl_family = (ushort)LibC.AF_NETLINK };
        if (LibC.bind(fd.Value, (sockaddr*)&address, sizeof(sockaddr_nl)) < 0)
        {
            throw new NetlinkException("bind(netlink)", LibC.errno);
        }
    }

    private static bool TrySetInt(SafeFdHandle handle, int level, int option, int value)
    {
        using var fd = handle.Borrow();
        return LibC.setsockopt(fd.Value, level, option, &value, sizeof(int)) == 0;
    }
}
