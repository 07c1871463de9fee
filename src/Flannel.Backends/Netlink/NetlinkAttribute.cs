using System.Buffers.Binary;
using System.Text;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

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

    /// <summary>An address whose family the attribute's length tells (4 or 16 bytes).</summary>
    public IpAddress GetIp() => IpAddress.FromBytes(Value);

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
