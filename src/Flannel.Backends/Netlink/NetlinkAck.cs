using System.Buffers.Binary;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Reads NLMSG_ERROR and NLMSG_DONE. Both start with an int (0 or -errno); NLMSG_ERROR then echoes the request's
/// header (and its payload unless NLM_F_CAPPED), and either may end with extended-ack TLVs when NLM_F_ACK_TLVS is set
/// (netlink_ack() and netlink_dump_done() in net/netlink/af_netlink.c).
/// </summary>
internal static class NetlinkAck
{
    /// <exception cref="FormatException">The message is too short to hold the error code.</exception>
    public static (int Error, string? KernelMessage) Read(NetlinkMessage message)
    {
        var payload = message.Payload;
        if (payload.Length < sizeof(int))
        {
            // An old kernel's NLMSG_DONE may carry no error code at all: that is success.
            return message.Type == NLMSG_DONE
                ? (0, null)
                : throw new FormatException($"netlink: NLMSG_ERROR with {payload.Length} payload bytes");
        }
        int error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if ((message.Flags & NLM_F_ACK_TLVS) == 0)
        {
            return (error, null);
        }
        int tlvStart = sizeof(int);
        if (message.Type == NLMSG_ERROR)
        {
            int echoed = NLMSG_HDRLEN;
            if ((message.Flags & NLM_F_CAPPED) == 0 && payload.Length >= sizeof(int) + NLMSG_HDRLEN)
            {
                echoed = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[sizeof(int)..]), int.MaxValue);
            }
            tlvStart += NLMSG_ALIGN(Math.Min(echoed, payload.Length));
        }
        return (error, tlvStart < payload.Length ? ReadKernelMessage(payload[tlvStart..]) : null);
    }

    /// <summary>
    /// NLMSGERR_ATTR_MSG from the TLVs. Malformed TLVs yield null rather than an exception: the errno is what matters
    /// and must not be lost to a garbled extra.
    /// </summary>
    private static string? ReadKernelMessage(ReadOnlySpan<byte> tlvs)
    {
        try
        {
            foreach (var attribute in new NetlinkAttributeReader(tlvs))
            {
                if (attribute.Type == NLMSGERR_ATTR_MSG)
                {
                    return attribute.GetString().TrimEnd('\n');
                }
            }
        }
        catch (FormatException)
        {
        }
        return null;
    }
}
