using System.Diagnostics.CodeAnalysis;
using Flannel.Backends.Interop;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>Receives each reply message of a request (not the ACK).</summary>
internal delegate void NetlinkReplyHandler(NetlinkMessage message);

/// <summary>Turns one dump message into a result, or returns false to skip it.</summary>
internal delegate bool NetlinkDumpParser<T>(NetlinkMessage message, [MaybeNullWhen(false)] out T value);

/// <summary>
/// A NETLINK_ROUTE socket for request/response: every request carries NLM_F_ACK, because a GET without it gets its
/// reply and no terminating message, so a reader waiting for the end would block forever. Replies are matched by
/// sequence number; anything else (a late reply to a request that timed out) is dropped. Not thread-safe: one request
/// at a time (<see cref="RtnetlinkClient"/> serialises callers).
/// </summary>
internal sealed unsafe partial class RtnetlinkSocket : IDisposable
{
    private const int ReplyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// A dump the kernel marks NLM_F_DUMP_INTR saw the table change mid-way (it may miss or repeat entries), so it is
    /// taken again; this many interrupted dumps in a row means something is churning and is reported instead.
    /// </summary>
    private const int MaxDumpAttempts = 10;

    private readonly SafeFdHandle _handle;

    // Dump datagrams are normally at most 32 KiB (netlink_recvmsg caps max_recvmsg_len, which sizes them, there); one
    // message can need more (a link with many SR-IOV VFs raises min_dump_alloc), and is still received whole because
    // Receive peeks at each datagram's size first.
    private byte[] _buffer = new byte[64 * 1024];
    private uint _sequence;

    /// <summary>Over any datagram socket: a bound netlink one, or one end of a socketpair playing the kernel in tests.</summary>
    internal RtnetlinkSocket(SafeFdHandle handle) => _handle = handle;

    /// <summary>A socket in the calling thread's network namespace.</summary>
    public static RtnetlinkSocket Open(int receiveBufferBytes = NetlinkSockets.DefaultReceiveBufferBytes) =>
        new(NetlinkSockets.Open(receiveBufferBytes));

    /// <summary>
    /// Sends <paramref name="request"/> and waits for its ACK; <paramref name="onReply"/> sees each reply message
    /// before it (RTM_GETROUTE / RTM_GETLINK answers).
    /// </summary>
    /// <exception cref="NetlinkException">The kernel answered with an error, or the socket failed.</exception>
    /// <exception cref="FormatException">The reply is malformed.</exception>
    public void Request(NetlinkMessageBuilder request, string operation, NetlinkReplyHandler? onReply = null)
    {
        uint sequence = Send(request, NLM_F_REQUEST | NLM_F_ACK, operation);
        while (true)
        {
            foreach (var message in new NetlinkMessageReader(Receive(operation)))
            {
                if (message.Header.nlmsg_seq != sequence)
                {
                    continue;
                }
                switch (message.Type)
                {
                    case NLMSG_ERROR:
                    case NLMSG_DONE:
                        ThrowIfFailed(message, operation);
                        return;
                    case NLMSG_NOOP:
                        break;
                    case NLMSG_OVERRUN:
                        throw new NetlinkException(operation, LibC.ENOBUFS, "NLMSG_OVERRUN: replies were lost");
                    default:
                        onReply?.Invoke(message);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> as a dump (NLM_F_DUMP) and collects every part until NLMSG_DONE, taking the
    /// dump again when the kernel flags it NLM_F_DUMP_INTR.
    /// </summary>
    /// <exception cref="NetlinkException">The kernel answered with an error, the dump kept being interrupted, or the
    /// socket failed.</exception>
    /// <exception cref="FormatException">A reply is malformed.</exception>
    public List<T> Dump<T>(NetlinkMessageBuilder request, string operation, NetlinkDumpParser<T> parse)
    {
        for (int attempt = 1; ; attempt++)
        {
            var results = new List<T>();
            bool interrupted = false;
            bool done = false;
            uint sequence = Send(request, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, operation);
            while (!done)
            {
                foreach (var message in new NetlinkMessageReader(Receive(operation)))
                {
                    if (message.Header.nlmsg_seq != sequence)
                    {
                        continue;
                    }
                    interrupted |= (message.Flags & NLM_F_DUMP_INTR) != 0;
                    if (message.Type is NLMSG_DONE or NLMSG_ERROR)
                    {
                        ThrowIfFailed(message, operation);
                        done = true;
                        break;
                    }
                    if (message.Type == NLMSG_OVERRUN)
                    {
                        throw new NetlinkException(operation, LibC.ENOBUFS, "NLMSG_OVERRUN: dump parts were lost");
                    }
                    if (message.Type != NLMSG_NOOP && parse(message, out var value))
                    {
                        results.Add(value);
                    }
                }
            }
            if (!interrupted)
            {
                return results;
            }
            if (attempt == MaxDumpAttempts)
            {
                throw new NetlinkException(operation, LibC.EINTR,
                    $"the dump was interrupted by concurrent changes {MaxDumpAttempts} times in a row");
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>NLMSG_ERROR and NLMSG_DONE both start with an int: 0, or -errno.</summary>
    private static void ThrowIfFailed(NetlinkMessage message, string operation)
    {
        var (error, kernelMessage) = NetlinkAck.Read(message);
        if (error < 0)
        {
            throw new NetlinkException(operation, -error, kernelMessage);
        }
    }

    private uint Send(NetlinkMessageBuilder request, ushort flags, string operation)
    {
        uint sequence = NextSequence();
        request.AddFlags(flags);
        request.SetSequence(sequence);
        SendDatagram(request.Message, operation);
        return sequence;
    }

    /// <summary>Never 0, the sequence number of the kernel's unsolicited messages.</summary>
    private uint NextSequence() => unchecked(++_sequence) == 0 ? ++_sequence : _sequence;

    /// <summary>Sends one datagram (one message, or several back to back) to the kernel.</summary>
    private void SendDatagram(ReadOnlySpan<byte> datagram, string operation)
    {
        using var fd = _handle.Borrow();
        while (true)
        {
            // No address: an unconnected netlink socket sends to the kernel (nl_pid 0) by default.
            long sent;
            fixed (byte* bytes = datagram)
            {
                sent = LibC.send(fd.Value, bytes, datagram.Length, 0);
            }
            if (sent == datagram.Length)
            {
                return;
            }
            int errno = LibC.errno;
            if (sent < 0 && errno == LibC.EINTR)
            {
                continue;
            }
            throw sent < 0
                ? new NetlinkException(operation, errno)
                : new NetlinkException($"{operation}: sent {sent} of {datagram.Length} bytes");
        }
    }

    /// <summary>The next datagram addressed to this socket, whole; valid until the next call.</summary>
    private ReadOnlySpan<byte> Receive(string operation)
    {
        using var fd = _handle.Borrow();
        while (true)
        {
            var poll = new pollfd { fd = fd.Value, events = LibC.POLLIN };
            int ready = LibC.poll(&poll, 1, ReplyTimeoutMilliseconds);
            if (ready == 0)
            {
                throw new NetlinkException(operation, LibC.ETIMEDOUT,
                    $"no reply from the kernel in {ReplyTimeoutMilliseconds / 1000} s");
            }
            if (ready < 0)
            {
                ThrowUnlessInterrupted(operation);
                continue;
            }
            // MSG_PEEK|MSG_TRUNC returns the datagram's real size without consuming it, so one larger than the
            // buffer grows the buffer instead of being cut short.
            long size = ReceiveInto(fd.Value, LibC.MSG_PEEK | LibC.MSG_TRUNC | LibC.MSG_DONTWAIT);
            if (size < 0)
            {
                ThrowUnlessInterrupted(operation);
                continue;
            }
            if (size > _buffer.Length)
            {
                _buffer = new byte[NLMSG_ALIGN((int)size)];
            }
            size = ReceiveInto(fd.Value, LibC.MSG_DONTWAIT);
            if (size < 0)
            {
                ThrowUnlessInterrupted(operation);
                continue;
            }
            return _buffer.AsSpan(0, (int)size);
        }
    }

    private long ReceiveInto(int fd, int flags)
    {
        fixed (byte* bytes = _buffer)
        {
            return LibC.recv(fd, bytes, _buffer.Length, flags);
        }
    }

    /// <summary>EINTR and EAGAIN mean "try again"; anything else (ENOBUFS: replies were dropped) is fatal.</summary>
    private static void ThrowUnlessInterrupted(string operation)
    {
        int errno = LibC.errno;
        if (errno != LibC.EINTR && errno != LibC.EAGAIN)
        {
            throw new NetlinkException(operation, errno);
        }
    }
}
