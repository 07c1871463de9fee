using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

/// <summary>
/// The batched socket calls and UDP offload options Tmds.LibC 0.5.0 lacks (include/uapi/linux/udp.h; recvmmsg(2),
/// sendmmsg(2), writev(2)), declared over our own structs (SocketStructs.cs).
/// </summary>
internal static unsafe partial class LinuxUdp
{
    public const int SOL_UDP = 17;
    public const int UDP_SEGMENT = 103;
    public const int UDP_GRO = 104;

    /// <summary>
    /// Segments per UDP_SEGMENT send: the kernel's UDP_MAX_SEGMENTS was 64 before commit 1382e3b6a350 raised it to 128;
    /// 64 works on every kernel with UDP GSO.
    /// </summary>
    public const int UDP_MAX_SEGMENTS = 64;

    /// <summary>The largest UDP payload of one IPv4 send, GSO included (65535 - 20 - 8; larger gives EMSGSIZE).</summary>
    public const int MaxIpv4Payload = 65507;

    /// <summary>CMSG_SPACE(sizeof(int)): room for one int-sized control message.</summary>
    public const int CmsgSpaceInt = 24;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int sockfd, mmsghdr* msgvec, uint vlen, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int recvmmsg(int sockfd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint writev(int fd, iovec* iov, int iovcnt);
}
