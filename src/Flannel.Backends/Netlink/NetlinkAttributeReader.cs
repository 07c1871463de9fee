using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
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
