namespace Flannel.Backends.Netlink;

/// <summary>Interface flags (include/uapi/linux/if.h IFF_*).</summary>
[Flags]
#pragma warning disable CA1711 // the kernel's name for them: "interface flags", ifi_flags
public enum LinkFlags
#pragma warning restore CA1711
{
    None = 0,
    Up = 0x1,
    Broadcast = 0x2,
    Loopback = 0x8,
    PointToPoint = 0x10,
    Running = 0x40,
    NoArp = 0x80,
    Promiscuous = 0x100,
    Multicast = 0x1000,
    LowerUp = 0x10000,
    Dormant = 0x20000,
}
