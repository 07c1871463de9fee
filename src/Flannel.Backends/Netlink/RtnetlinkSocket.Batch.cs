using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

internal sealed partial class RtnetlinkSocket
{
    /// <summary>
    /// Requests per send(2). Every one is answered by its own ACK datagram, and each costs the receive queue about a
    /// kilobyte of skb truesize, so 64 stay far below the 4 MiB buffer however slowly we read.
    /// </summary>
    internal const int MaxBatchMessages = 64;

    /// <summary>Bytes per send(2): well below the default send buffer (wmem_default, ~208 KiB).</summary>
    internal const int MaxBatchBytes = 32 * 1024;

    private byte[] _batchBuffer = new byte[MaxBatchBytes];

    /// <summary>
    /// Sends the requests packed many to a datagram, each with its own sequence number and NLM_F_ACK, and waits for
    /// every ACK: the kernel's netlink_rcv_skb() handles the messages of a datagram one after another and answers each,
    /// an error not stopping the rest. Returns one entry per request, in order: null for success, else the error.
    /// </summary>
    /// <exception cref="NetlinkException">The socket failed (or replies were lost); which requests took effect is
    /// unknown.</exception>
    /// <exception cref="FormatException">A reply is malformed.</exception>
    public NetlinkException?[] Batch(IReadOnlyList<NetlinkRequest> requests)
    {
        var results = new NetlinkException?[requests.Count];
        var pending = new Dictionary<uint, int>(MaxBatchMessages);
        int next = 0;
        while (next < requests.Count)
        {
            int first = next;
            int length = 0;
            while (next < requests.Count && next - first < MaxBatchMessages)
            {
                var message = requests[next].Message.Span;
                int aligned = NLMSG_ALIGN(message.Length);
                if (next > first && length + aligned > MaxBatchBytes)
                {
                    break;
                }
                if (length + aligned > _batchBuffer.Length)
                {
                    // A single request larger than the usual datagram goes alone.
                    Array.Resize(ref _batchBuffer, length + aligned);
                }
                var destination = _batchBuffer.AsSpan(length, aligned);
                message.CopyTo(destination);
                destination[message.Length..].Clear();
                var header = MemoryMarshal.Read<nlmsghdr>(destination);
                header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
                header.nlmsg_seq = NextSequence();
                MemoryMarshal.Write(destination, in header);
                pending.Add(header.nlmsg_seq, next);
                length += aligned;
                next++;
            }
            string operation = next - first == 1
                ? requests[first].Operation
                : $"batch of {next - first} requests ({requests[first].Operation}, ...)";
            SendDatagram(_batchBuffer.AsSpan(0, length), operation);
            while (pending.Count > 0)
            {
                foreach (var message in new NetlinkMessageReader(Receive(operation)))
                {
                    if (!pending.TryGetValue(message.Header.nlmsg_seq, out int index))
                    {
                        continue;
                    }
                    switch (message.Type)
                    {
                        case NLMSG_ERROR:
                        case NLMSG_DONE:
                            var (error, kernelMessage) = NetlinkAck.Read(message);
                            if (error < 0)
                            {
                                results[index] = new NetlinkException(requests[index].Operation, -error, kernelMessage);
                            }
                            pending.Remove(message.Header.nlmsg_seq);
                            break;
                        case NLMSG_OVERRUN:
                            throw new NetlinkException(operation, LibC.ENOBUFS, "NLMSG_OVERRUN: replies were lost");
                    }
                }
            }
        }
        return results;
    }
}
