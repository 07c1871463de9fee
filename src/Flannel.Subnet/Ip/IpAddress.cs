using System.Buffers.Binary;

namespace Flannel.Subnet.Ip;

/// <summary>
/// An IPv4 or an IPv6 address: what the family-neutral kernel records (routes, neighbours, FDB remotes, device
/// addresses) carry, so the dual-stack backends derive and compare both families with one set of code. The family
/// types convert to it implicitly; <see cref="Ip4"/> and <see cref="Ip6"/> convert back.
/// </summary>
public readonly record struct IpAddress : IComparable<IpAddress>
{
    private readonly UInt128 _value;

    private IpAddress(UInt128 value, IpFamily family)
    {
        _value = value;
        Family = family;
    }

    public IpFamily Family { get; }

    public bool IsIp6 => Family == IpFamily.Ip6;

    /// <summary>4 or 16: the length of the address on the wire.</summary>
    public int Length => IsIp6 ? 16 : 4;

    /// <summary>The all-zero address (0.0.0.0 or ::), which netlink requests leave out.</summary>
    public bool IsZero => _value == UInt128.Zero;

    public Ip4Address Ip4 => IsIp6 ? throw new InvalidOperationException($"{this} is not an IPv4 address") : new Ip4Address((uint)_value);

    public Ip6Address Ip6 => IsIp6 ? new Ip6Address(_value) : throw new InvalidOperationException($"{this} is not an IPv6 address");

    public static implicit operator IpAddress(Ip4Address address) => new(address.Value, IpFamily.Ip4);

    public static implicit operator IpAddress(Ip6Address address) => new(address.Value, IpFamily.Ip6);

    /// <summary>An address in network byte order: 4 bytes are IPv4, 16 IPv6.</summary>
    /// <exception cref="FormatException">Any other length.</exception>
    public static IpAddress FromBytes(ReadOnlySpan<byte> networkOrder) => networkOrder.Length switch
    {
        4 => Ip4Address.FromBytes(networkOrder),
        16 => new Ip6Address(BinaryPrimitives.ReadUInt128BigEndian(networkOrder)),
        _ => throw new FormatException($"a {networkOrder.Length}-byte address is neither IPv4 nor IPv6"),
    };

    /// <summary>Writes <see cref="Length"/> bytes in network byte order.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        if (IsIp6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, _value);
        }
        else
        {
            Ip4.WriteBytes(destination);
        }
    }

    public static bool TryParse(ReadOnlySpan<char> s, out IpAddress address)
    {
        if (Ip4Address.TryParse(s, out var v4))
        {
            address = v4;
            return true;
        }
        bool ok = Ip6Address.TryParse(s, out var v6);
        address = v6;
        return ok;
    }

    /// <summary>IPv4 before IPv6, then by value.</summary>
    public int CompareTo(IpAddress other) => Family != other.Family ? Family.CompareTo(other.Family) : _value.CompareTo(other._value);

    public static bool operator <(IpAddress a, IpAddress b) => a.CompareTo(b) < 0;
    public static bool operator >(IpAddress a, IpAddress b) => a.CompareTo(b) > 0;
    public static bool operator <=(IpAddress a, IpAddress b) => a.CompareTo(b) <= 0;
    public static bool operator >=(IpAddress a, IpAddress b) => a.CompareTo(b) >= 0;

    public override string ToString() => IsIp6 ? Ip6.ToString() : Ip4.ToString();
}
