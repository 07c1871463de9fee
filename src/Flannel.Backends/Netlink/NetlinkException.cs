using System.Runtime.InteropServices;

namespace Flannel.Backends.Netlink;

/// <summary>
/// A netlink request the kernel refused (NLMSG_ERROR carrying -errno), or a netlink socket call that failed.
/// The message names the operation, the kernel's strerror text and, when the kernel sent one, its extended-ack
/// message (e.g. "Nexthop has invalid gateway"), which often says more than the errno.
/// </summary>
public sealed class NetlinkException : IOException
{
    public NetlinkException()
    {
    }

    public NetlinkException(string message)
        : base(message)
    {
    }

    public NetlinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public NetlinkException(string operation, int errno, string? kernelMessage = null)
        : base(Format(operation, errno, kernelMessage))
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    /// <summary>The positive errno (EEXIST = 17, ESRCH = 3, ...); 0 when the exception was not built from one.</summary>
    public int Errno { get; }

    /// <summary>What was being done, e.g. <c>add route 10.5.2.0/24 via 198.51.100.2 dev #3</c>.</summary>
    public string? Operation { get; }

    /// <summary>The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it sent one.</summary>
    public string? KernelMessage { get; }

    private static string Format(string operation, int errno, string? kernelMessage)
    {
        string text = $"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text}: {kernelMessage}";
    }
}
