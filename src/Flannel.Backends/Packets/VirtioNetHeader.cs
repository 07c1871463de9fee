using System.Buffers.Binary;
using Flannel.Backends.Interop;

namespace Flannel.Backends.Packets;

/// <summary>
/// The 10-byte virtio_net_hdr before every packet on a TUN opened with IFF_VNET_HDR; little-endian fields
/// (drivers/net/tun_vnet.h without TUNSETVNETBE).
/// </summary>
internal readonly record struct VirtioNetHeader(byte Flags, byte GsoType, ushort HdrLen, ushort GsoSize, ushort CsumStart, ushort CsumOffset)
{
    public const int Length = 10;

    public bool NeedsChecksum => (Flags & LinuxTun.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;

    /// <summary>gso_type without the ECN bit.</summary>
    public byte Gso => (byte)(GsoType & ~LinuxTun.VIRTIO_NET_HDR_GSO_ECN);

    public static VirtioNetHeader Read(ReadOnlySpan<byte> p) => new(p[0], p[1],
        BinaryPrimitives.ReadUInt16LittleEndian(p[2..]), BinaryPrimitives.ReadUInt16LittleEndian(p[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(p[6..]), BinaryPrimitives.ReadUInt16LittleEndian(p[8..]));
}
