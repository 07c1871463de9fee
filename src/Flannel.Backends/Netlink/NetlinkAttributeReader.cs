using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Walks a run of attributes (<c>nla_for_each_attr</c>). Throws only <see cref="FormatException"/> on malformed input:
/// a length below the 4-byte header, a length past the end, or 1..3 stray bytes at the end.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
        Current = default;
    }

    public NetlinkAttribute Current { get; private set; }

    public readonly NetlinkAttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_remaining.IsEmpty)
        {
            return false;
        }
        if (_remaining.Length < NLA_HDRLEN)
        {
            throw new FormatException($"netlink: {_remaining.Length} trailing bytes, shorter than an attribute header");
        }
        var header = MemoryMarshal.Read<nlattr>(_remaining);
        if (header.nla_len < NLA_HDRLEN || header.nla_len > _remaining.Length)
        {
            throw new FormatException(
                $"netlink: attribute {header.nla_type & NLA_TYPE_MASK} length {header.nla_len} outside 4..{_remaining.Length}");
        }
        Current = new NetlinkAttribute(header.nla_type, _remaining[NLA_HDRLEN..header.nla_len]);
        _remaining = _remaining[Math.Min(NLA_ALIGN(header.nla_len), _remaining.Length)..];
        return true;
    }
}

/// <summary>
/// One attribute. The typed getters check the length and throw <see cref="FormatException"/> when it does not fit
/// the type, so a malformed reply can never read past its value.
/// </summary>
internal readonly ref struct NetlinkAttribute
{
    private readonly ushort _rawType;

    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> value)
    {
        _rawType = rawType;
        Value = value;
    }

    /// <summary>The type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits.</summary>
    public ushort Type => (ushort)(_rawType & NLA_TYPE_MASK);

    public bool IsNested => (_rawType & NLA_F_NESTED) != 0;

    public ReadOnlySpan<byte> Value { get; }

    public NetlinkAttributeReader Nested => new(Value);

    public byte GetU8() => Expect(1)[0];

    public ushort GetU16() => BinaryPrimitives.ReadUInt16LittleEndian(Expect(2));

    public uint GetU32() => BinaryPrimitives.ReadUInt32LittleEndian(Expect(4));

    public int GetS32() => BinaryPrimitives.ReadInt32LittleEndian(Expect(4));

    public Ip4Address GetIp4() => Ip4Address.FromBytes(Expect(4));

    /// <summary>A string up to the first NUL (or the whole value when there is none; NLA_STRING need not end in NUL).</summary>
    public string GetString()
    {
        int end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Value : Value[..end]);
    }

    private ReadOnlySpan<byte> Expect(int size) =>
        Value.Length == size
            ? Value
            : throw new FormatException($"netlink: attribute {Type} has {Value.Length} bytes, expected {size}");
}
