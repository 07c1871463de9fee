using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

// The kernel's netlink ABI structs (include/uapi/linux/netlink.h), with the C field names so they can be checked
// against the headers by eye; NetlinkStructLayoutTests asserts sizes and offsets. All are blittable.
#pragma warning disable CS8981 // lower-case type names are the C names on purpose

/// <summary><c>struct sockaddr_nl</c>: a netlink address; <c>nl_pid</c> 0 is the kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_nl
{
    public ushort nl_family;
    public ushort nl_pad;
    public uint nl_pid;
    public uint nl_groups;
}

/// <summary><c>struct nlmsghdr</c>: the 16-byte header of every netlink message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct nlmsghdr
{
    public uint nlmsg_len;
    public ushort nlmsg_type;
    public ushort nlmsg_flags;
    public uint nlmsg_seq;
    public uint nlmsg_pid;
}

/// <summary><c>struct nlmsgerr</c>: the payload of NLMSG_ERROR; <c>error</c> is 0 for an ACK, else -errno.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct nlmsgerr
{
    public int error;
    public nlmsghdr msg;
}

/// <summary><c>struct nlattr</c>: a type-length-value attribute header (generic netlink and ext-ack TLVs).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct nlattr
{
    public ushort nla_len;
    public ushort nla_type;
}

/// <summary><c>struct rtattr</c>: rtnetlink's attribute header, the same layout as <see cref="nlattr"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct rtattr
{
    public ushort rta_len;
    public ushort rta_type;
}
