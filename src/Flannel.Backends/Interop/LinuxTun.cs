using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

// One file per kernel header: the calls and the C structs they pass stay together, as in the header.
#pragma warning disable CS8981 // lower-case type names are the C names on purpose

/// <summary>
/// include/uapi/linux/if_tun.h and virtio_net.h constants that Tmds.LibC lacks, with their C names. The ioctl numbers
/// are x86_64/arm64 encodings (<c>_IOW('T', n, int)</c>); TunStructLayoutTests pins the structs.
/// </summary>
internal static unsafe partial class LinuxTun
{
    /// <summary>ioctl(2) with an unsigned long request and a pointer or value argument (Tmds.LibC has only int forms).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    public const nuint TUNSETIFF = 0x400454CA;
    public const nuint TUNSETOFFLOAD = 0x400454D0;

    public const short IFF_TUN = 0x0001;
    public const short IFF_MULTI_QUEUE = 0x0100;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_VNET_HDR = 0x4000;

    public const uint TUN_F_CSUM = 0x01;
    public const uint TUN_F_TSO4 = 0x02;
    public const uint TUN_F_TSO6 = 0x04;

    public const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    public const byte VIRTIO_NET_HDR_GSO_NONE = 0;
    public const byte VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    public const byte VIRTIO_NET_HDR_GSO_ECN = 0x80;

    public const int IFNAMSIZ = 16;
}

/// <summary><c>struct ifreq</c> as TUNSETIFF uses it: the name and the flags of the union; 40 bytes on 64-bit.</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal unsafe struct ifreq
{
    public fixed byte ifr_name[LinuxTun.IFNAMSIZ];
    public short ifr_flags;
}

/// <summary>
/// <c>struct virtio_net_hdr</c> (the legacy 10-byte form) that prefixes every TUN read and write with IFF_VNET_HDR.
/// The u16 fields are little-endian for TUN unless TUNSETVNETBE is used (drivers/net/tun_vnet.h).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 2)]
internal struct virtio_net_hdr
{
    public byte flags;
    public byte gso_type;
    public ushort hdr_len;
    public ushort gso_size;
    public ushort csum_start;
    public ushort csum_offset;
}
