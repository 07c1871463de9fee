using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

// The rtnetlink family headers (include/uapi/linux/rtnetlink.h, if_addr.h, neighbour.h) that follow nlmsghdr, with
// the C field names; NetlinkStructLayoutTests asserts sizes and offsets.
#pragma warning disable CS8981 // lower-case type names are the C names on purpose

/// <summary><c>struct rtmsg</c>: RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct rtmsg
{
    public byte rtm_family;
    public byte rtm_dst_len;
    public byte rtm_src_len;
    public byte rtm_tos;
    public byte rtm_table;
    public byte rtm_protocol;
    public byte rtm_scope;
    public byte rtm_type;
    public uint rtm_flags;
}

/// <summary><c>struct ifinfomsg</c>: RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ifinfomsg
{
    public byte ifi_family;
    public byte __ifi_pad;
    public ushort ifi_type;
    public int ifi_index;
    public uint ifi_flags;
    public uint ifi_change;
}

/// <summary><c>struct ifaddrmsg</c>: RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ifaddrmsg
{
    public byte ifa_family;
    public byte ifa_prefixlen;
    public byte ifa_flags;
    public byte ifa_scope;
    public uint ifa_index;
}

/// <summary><c>struct ndmsg</c>: RTM_NEWNEIGH / RTM_DELNEIGH (ARP entries and bridge FDB entries for vxlan).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ndmsg
{
    public byte ndm_family;
    public byte ndm_pad1;
    public ushort ndm_pad2;
    public int ndm_ifindex;
    public ushort ndm_state;
    public byte ndm_flags;
    public byte ndm_type;
}
