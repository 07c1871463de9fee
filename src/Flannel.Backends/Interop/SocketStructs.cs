using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

// The socket structs the batched calls use, with the C field names (x86_64/arm64 layouts: include/linux/socket.h,
// uio.h, in.h). Declared here rather than taken from Tmds.LibC because its mmsghdr exposes msg_hdr as a property, which
// cannot be written through a pointer. SocketStructLayoutTests pins sizes and offsets.
#pragma warning disable CS8981 // lower-case type names are the C names on purpose
#pragma warning disable CA1051 // C structs expose their fields

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct iovec
{
    public void* iov_base;
    public nuint iov_len;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct msghdr
{
    public void* msg_name;
    public uint msg_namelen;
    public iovec* msg_iov;
    public nuint msg_iovlen;
    public void* msg_control;
    public nuint msg_controllen;
    public int msg_flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct mmsghdr
{
    public msghdr msg_hdr;
    public uint msg_len;
}

[StructLayout(LayoutKind.Sequential)]
internal struct cmsghdr
{
    public nuint cmsg_len;
    public int cmsg_level;
    public int cmsg_type;
}

/// <summary><c>struct sockaddr_in</c>; port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_in
{
    public ushort sin_family;
    public ushort sin_port;
    public uint sin_addr;
    public ulong sin_zero;
}
