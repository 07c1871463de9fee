using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>One message: its header and the payload after it (family header plus attributes).</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(nlmsghdr header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    public nlmsghdr Header { get; }

    public ReadOnlySpan<byte> Payload { get; }

    public ushort Type => Header.nlmsg_type;

    public ushort Flags => Header.nlmsg_flags;

    /// <summary>The family header at the start of the payload.</summary>
    /// <exception cref="FormatException">The payload is shorter than <typeparamref name="T"/>.</exception>
    public T ReadHeader<T>()
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (Payload.Length < size)
        {
            throw new FormatException($"netlink: message type {Type} has {Payload.Length} payload bytes, header needs {size}");
        }
        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes that follow a family header of type <typeparamref name="T"/>.</summary>
    public NetlinkAttributeReader Attributes<T>()
        where T : unmanaged
    {
        int start = NLMSG_ALIGN(Unsafe.SizeOf<T>());
        return new NetlinkAttributeReader(Payload.Length <= start ? default : Payload[start..]);
    }
}
