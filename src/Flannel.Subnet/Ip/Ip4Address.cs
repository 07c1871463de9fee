using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Flannel.Subnet.Ip;

/// <summary>An IPv4 address held as a host-order <see cref="uint"/>, like flannel's <c>ip.IP4</c>.</summary>
public readonly record struct Ip4Address(uint Value) : IComparable<Ip4Address>, ISpanFormattable
{
    public static Ip4Address Zero => default;

    public static Ip4Address FromBytes(ReadOnlySpan<byte> networkOrder) => new(BinaryPrimitives.ReadUInt32BigEndian(networkOrder));

    public void WriteBytes(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    /// <summary>
    /// Parses a dotted quad the way Go's <c>net.ParseIP</c> does for IPv4: four decimal octets, no leading zeros
    /// (Go 1.17+ rejects them as ambiguous octal), no signs or spaces.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ip4Address address)
    {
        address = default;
        uint value = 0;
        int octets = 0;
        int i = 0;
        while (octets < 4)
        {
            int start = i;
            uint octet = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]) && i - start < 3)
            {
                octet = (octet * 10) + (uint)(s[i] - '0');
                i++;
            }
            int digits = i - start;
            if (digits == 0 || octet > 255 || (digits > 1 && s[start] == '0'))
            {
                return false;
            }
            value = (value << 8) | octet;
            octets++;
            if (octets < 4)
            {
                if (i >= s.Length || s[i] != '.')
                {
                    return false;
                }
                i++;
            }
        }
        if (i != s.Length)
        {
            return false;
        }
        address = new Ip4Address(value);
        return true;
    }

    public static Ip4Address Parse(string s) =>
        TryParse(s, out var a) ? a : throw new FormatException($"invalid IPv4 address: {s}");

    public static bool TryParse([NotNullWhen(true)] string? s, out Ip4Address address)
    {
        if (s is null)
        {
            address = default;
            return false;
        }
        return TryParse(s.AsSpan(), out address);
    }

    public int CompareTo(Ip4Address other) => Value.CompareTo(other.Value);

    public static bool operator <(Ip4Address a, Ip4Address b) => a.Value < b.Value;
    public static bool operator >(Ip4Address a, Ip4Address b) => a.Value > b.Value;
    public static bool operator <=(Ip4Address a, Ip4Address b) => a.Value <= b.Value;
    public static bool operator >=(Ip4Address a, Ip4Address b) => a.Value >= b.Value;

    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 0xff}.{(Value >> 8) & 0xff}.{Value & 0xff}";

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(System.Globalization.CultureInfo.InvariantCulture,
            $"{Value >> 24}.{(Value >> 16) & 0xff}.{(Value >> 8) & 0xff}.{Value & 0xff}", out charsWritten);
}
