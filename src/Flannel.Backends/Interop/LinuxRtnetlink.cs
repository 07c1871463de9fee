namespace Flannel.Backends.Interop;

/// <summary>
/// Constants of include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h and if.h, with their C names. Only what the
/// client uses or is likely to need for the vxlan backend.
/// </summary>
internal static class LinuxRtnetlink
{
    // Message types.
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28;
    public const ushort RTM_DELNEIGH = 29;
    public const ushort RTM_GETNEIGH = 30;

    // Multicast groups (enum rtnetlink_groups); joined with NETLINK_ADD_MEMBERSHIP.
    public const int RTNLGRP_LINK = 1;
    public const int RTNLGRP_NEIGH = 3;
    public const int RTNLGRP_IPV4_IFADDR = 5;
    public const int RTNLGRP_IPV4_ROUTE = 7;
    public const int RTNLGRP_IPV6_IFADDR = 9;
    public const int RTNLGRP_IPV6_ROUTE = 11;

    // rtm_type.
    public const byte RTN_UNSPEC = 0;
    public const byte RTN_UNICAST = 1;
    public const byte RTN_LOCAL = 2;

    // rtm_protocol.
    public const byte RTPROT_UNSPEC = 0;
    public const byte RTPROT_KERNEL = 2;
    public const byte RTPROT_BOOT = 3;
    public const byte RTPROT_STATIC = 4;

    // rtm_scope / ifa_scope.
    public const byte RT_SCOPE_UNIVERSE = 0;
    public const byte RT_SCOPE_LINK = 253;
    public const byte RT_SCOPE_HOST = 254;
    public const byte RT_SCOPE_NOWHERE = 255;

    // rtm_table.
    public const byte RT_TABLE_UNSPEC = 0;
    public const byte RT_TABLE_MAIN = 254;
    public const byte RT_TABLE_LOCAL = 255;

    // rtm_flags.
    public const uint RTNH_F_ONLINK = 4;
    public const uint RTM_F_CLONED = 0x200;

    // enum rtattr_type_t.
    public const ushort RTA_DST = 1;
    public const ushort RTA_SRC = 2;
    public const ushort RTA_IIF = 3;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PRIORITY = 6;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_MULTIPATH = 9;
    public const ushort RTA_TABLE = 15;

    // IFLA_* (if_link.h).
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_BROADCAST = 2;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINK = 5;
    public const ushort IFLA_MASTER = 10;
    public const ushort IFLA_LINKINFO = 18;
    public const ushort IFLA_INFO_KIND = 1;
    public const ushort IFLA_INFO_DATA = 2;

    // IFLA_VXLAN_* (if_link.h), inside IFLA_INFO_DATA of kind "vxlan".
    public const ushort IFLA_VXLAN_ID = 1;
    public const ushort IFLA_VXLAN_LINK = 3;
    public const ushort IFLA_VXLAN_LOCAL = 4;
    public const ushort IFLA_VXLAN_LEARNING = 7;
    public const ushort IFLA_VXLAN_PORT = 15;
    public const ushort IFLA_VXLAN_LOCAL6 = 17;
    public const ushort IFLA_VXLAN_GBP = 23;

    // NDA_* (neighbour.h): attributes of RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH.
    public const ushort NDA_DST = 1;
    public const ushort NDA_LLADDR = 2;

    // ndm_state (NUD_*) and ndm_flags (NTF_*).
    public const ushort NUD_PERMANENT = 0x80;
    public const byte NTF_SELF = 0x02;

    /// <summary>PF_BRIDGE: the family of bridge / vxlan FDB entries (Tmds.LibC lacks it).</summary>
    public const byte AF_BRIDGE = 7;

    // IFA_* (if_addr.h).
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const ushort IFA_LABEL = 3;
    public const ushort IFA_BROADCAST = 4;

    // Interface flags (if.h).
    public const uint IFF_UP = 0x1;

    public const int IFNAMSIZ = 16;
}
