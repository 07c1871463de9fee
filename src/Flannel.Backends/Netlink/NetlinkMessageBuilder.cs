using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Builds one netlink request: nlmsghdr, then a family header (rtmsg, ifinfomsg, ...), then attributes, each padded
/// to 4 bytes as the kernel's NLMSG_ALIGN / NLA_ALIGN require. Lengths are patched when known: nlmsg_len by
/// <see cref="Message"/>, a nested attribute's length by <see cref="EndNested"/>. Integers are host order, except
/// where the kernel documents network order (<see cref="AddU16BigEndian"/>, addresses).
/// </summary>
internal sealed class NetlinkMessageBuilder
{
    private byte[] _buffer;
    private int _length;

    public NetlinkMessageBuilder(ushort type, ushort flags = 0, int capacity = 256)
    {
        _buffer = new byte[Math.Max(capacity, NLMSG_HDRLEN)];
        var header = new nlmsghdr { nlmsg_type = type, nlmsg_flags = flags };
        MemoryMarshal.Write(_buffer, in header);
        _length = NLMSG_HDRLEN;
    }

    public ushort Type => ReadHeader().nlmsg_type;

    public ushort Flags => ReadHeader().nlmsg_flags;

    public int Length => _length;

    /// <summary>The whole message with nlmsg_len patched; valid until the builder is changed again.</summary>
    public Span<byte> Message
    {
        get
        {
            var header = ReadHeader();
            header.nlmsg_len = (uint)_length;
            MemoryMarshal.Write(_buffer, in header);
            return _buffer.AsSpan(0, _length);
        }
    }

    public void AddFlags(ushort flags)
    {
        var header = ReadHeader();
        header.nlmsg_flags |= flags;
        MemoryMarshal.Write(_buffer, in header);
    }

    public void SetSequence(uint sequence)
    {
        var header = ReadHeader();
        header.nlmsg_seq = sequence;
        MemoryMarshal.Write(_buffer, in header);
    }

    /// <summary>Appends a family header such as <see cref="rtmsg"/>; padded so the attributes start aligned.</summary>
    public void AddHeader<T>(in T familyHeader)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        var destination = Reserve(NLMSG_ALIGN(size));
        MemoryMarshal.Write(destination, in familyHeader);
    }

    public void AddAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        int length = NLA_HDRLEN + value.Length;
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"attribute {type} is {value.Length} bytes; nla_len is 16 bits", nameof(value));
        }
        var destination = Reserve(NLA_ALIGN(length));
        var header = new nlattr { nla_len = (ushort)length, nla_type = type };
        MemoryMarshal.Write(destination, in header);
        value.CopyTo(destination[NLA_HDRLEN..]);
    }

    public void AddU8(ushort type, byte value) => AddAttribute(type, [value]);

    public void AddU16(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        AddAttribute(type, bytes);
    }

    /// <summary>For attributes the kernel declares <c>__be16</c>, e.g. IFLA_VXLAN_PORT.</summary>
    public void AddU16BigEndian(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        AddAttribute(type, bytes);
    }

    public void AddU32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        AddAttribute(type, bytes);
    }

    /// <summary>A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept the terminator).</summary>
    public void AddString(ushort type, string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        Span<byte> bytes = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        bytes[count] = 0;
        AddAttribute(type, bytes);
    }

    /// <summary>An IPv4 address, in network byte order as the kernel stores <c>__be32</c> addresses.</summary>
    public void AddIp4(ushort type, Ip4Address address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.WriteBytes(bytes);
        AddAttribute(type, bytes);
    }

    /// <summary>An IPv6 address, in network byte order (<c>struct in6_addr</c>).</summary>
    public void AddIp6(ushort type, Ip6Address address)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address.Value);
        AddAttribute(type, bytes);
    }

    /// <summary>An address of either family, in network byte order (4 or 16 bytes).</summary>
    public void AddIp(ushort type, IpAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteBytes(bytes);
        AddAttribute(type, bytes[..address.Length]);
    }

    /// <summary>Starts a nested attribute (NLA_F_NESTED set, as strict validation on newer kernels requires).</summary>
    /// <returns>A token for <see cref="EndNested"/>.</returns>
    public int BeginNested(ushort type)
    {
        int start = _length;
        var destination = Reserve(NLA_HDRLEN);
        var header = new nlattr { nla_len = 0, nla_type = (ushort)(type | NLA_F_NESTED) };
        MemoryMarshal.Write(destination, in header);
        return start;
    }

    public void EndNested(int start)
    {
        if (start < NLMSG_HDRLEN || start + NLA_HDRLEN > _length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, "not a token from BeginNested");
        }
        int length = _length - start;
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException($"nested attribute is {length} bytes; nla_len is 16 bits");
        }
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)length);
    }

    private nlmsghdr ReadHeader() => MemoryMarshal.Read<nlmsghdr>(_buffer);

    /// <summary>Grows the message by <paramref name="count"/> zeroed bytes and returns them.</summary>
    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        span.Clear();
        _length += count;
        return span;
    }
}
