using System.Buffers.Binary;
using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Tests.Netlink;

/// <summary>
/// Plays the kernel for an <see cref="RtnetlinkSocket"/> over a unix datagram socketpair, so tests can send replies
/// the real kernel produces only rarely (NLM_F_DUMP_INTR, stale sequence numbers, huge datagrams).
/// </summary>
internal sealed unsafe class FakeKernel : IDisposable
{
    private readonly SafeFdHandle _kernelEnd;

    private FakeKernel(SafeFdHandle clientEnd, SafeFdHandle kernelEnd)
    {
        Client = new RtnetlinkSocket(clientEnd);
        _kernelEnd = kernelEnd;
    }

    public RtnetlinkSocket Client { get; }

    public static FakeKernel Create()
    {
        int* pair = stackalloc int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0, pair) != 0)
        {
            throw new InvalidOperationException($"socketpair: errno {LibC.errno}");
        }
        return new FakeKernel(new SafeFdHandle(pair[0]), new SafeFdHandle(pair[1]));
    }

    /// <summary>The next request the client sent: (flags, sequence).</summary>
    public (ushort Flags, uint Sequence) ReceiveRequest()
    {
        using var fd = _kernelEnd.Borrow();
        var poll = new pollfd { fd = fd.Value, events = LibC.POLLIN };
        if (LibC.poll(&poll, 1, 10_000) != 1)
        {
            throw new TimeoutException("the client sent no request in 10 s");
        }
        byte[] buffer = new byte[65536];
        long length;
        fixed (byte* bytes = buffer)
        {
            length = LibC.recv(fd.Value, bytes, buffer.Length, 0);
        }
        Assert.True(length >= 16, $"request of {length} bytes");
        return (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(6)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8)));
    }

    public void Send(params byte[][] messages)
    {
        byte[] datagram = [.. messages.SelectMany(m => m)];
        using var fd = _kernelEnd.Borrow();
        long sent;
        fixed (byte* bytes = datagram)
        {
            sent = LibC.send(fd.Value, bytes, datagram.Length, 0);
        }
        Assert.Equal(datagram.Length, sent);
    }

    public static byte[] Link(uint sequence, string name, ushort flags = NLM_F_MULTI)
    {
        var builder = new NetlinkMessageBuilder(LinuxRtnetlink.RTM_NEWLINK, flags);
        builder.AddHeader(new ifinfomsg { ifi_index = 7 });
        builder.AddString(LinuxRtnetlink.IFLA_IFNAME, name);
        builder.SetSequence(sequence);
        return builder.Message.ToArray();
    }

    public static byte[] Done(uint sequence, int error = 0, ushort flags = NLM_F_MULTI) =>
        Raw(NLMSG_DONE, flags, sequence, BitConverter.GetBytes(error));

    /// <summary>
    /// NLMSG_ERROR as netlink_ack() builds it: the error, the request's header echoed, then its payload unless
    /// capped (NETLINK_CAP_ACK), then the extended-ack TLVs.
    /// </summary>
    public static byte[] Ack(uint sequence, int error = 0, string? kernelMessage = null, byte[]? echoedPayload = null)
    {
        ushort flags = echoedPayload is null ? NLM_F_CAPPED : (ushort)0;
        var echoedHeader = new nlmsghdr { nlmsg_len = (uint)(16 + (echoedPayload?.Length ?? 0)), nlmsg_type = 24, nlmsg_seq = sequence };
        byte[] echoed = [.. StructBytes(echoedHeader), .. echoedPayload ?? []];
        byte[] payload = [.. BitConverter.GetBytes(error), .. echoed, .. new byte[NLMSG_ALIGN(echoed.Length) - echoed.Length]];
        if (kernelMessage is not null)
        {
            var tlvs = new NetlinkMessageBuilder(0);
            tlvs.AddString(NLMSGERR_ATTR_MSG, kernelMessage);
            payload = [.. payload, .. tlvs.Message[16..]];
            flags |= NLM_F_ACK_TLVS;
        }
        return Raw(NLMSG_ERROR, flags, sequence, payload);
    }

    private static byte[] Raw(ushort type, ushort flags, uint sequence, byte[] payload)
    {
        var header = new nlmsghdr { nlmsg_len = (uint)(16 + payload.Length), nlmsg_type = type, nlmsg_flags = flags, nlmsg_seq = sequence };
        return [.. StructBytes(header), .. payload];
    }

    public static NetlinkMessageBuilder LinkDumpRequest()
    {
        var request = new NetlinkMessageBuilder(LinuxRtnetlink.RTM_GETLINK);
        request.AddHeader(new ifinfomsg());
        return request;
    }

    public static bool ReadName(NetlinkMessage message, out string name)
    {
        bool ok = RtnetlinkMessages.TryReadLink(message, out var link);
        name = link?.Name ?? "";
        return ok;
    }

    public void Dispose()
    {
        Client.Dispose();
        _kernelEnd.Dispose();
    }

    private static byte[] StructBytes(nlmsghdr header)
    {
        byte[] bytes = new byte[16];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in header);
        return bytes;
    }
}
