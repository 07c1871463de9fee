using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Netlink;

/// <summary>
/// Walks the netlink messages of one received datagram (a dump packs many into one). Throws only
/// <see cref="FormatException"/>, when a length field points outside the datagram or below the header size.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
        Current = default;
    }

    public NetlinkMessage Current { get; private set; }

    public readonly NetlinkMessageReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_remaining.IsEmpty)
        {
            return false;
        }
        if (_remaining.Length < NLMSG_HDRLEN)
        {
            throw new FormatException($"netlink: {_remaining.Length} trailing bytes, shorter than a message header");
        }
        var header = MemoryMarshal.Read<nlmsghdr>(_remaining);
        if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > (uint)_remaining.Length)
        {
            throw new FormatException(
                $"netlink: message length {header.nlmsg_len} outside 16..{_remaining.Length} (type {header.nlmsg_type})");
        }
        int length = (int)header.nlmsg_len;
        Current = new NetlinkMessage(header, _remaining[NLMSG_HDRLEN..length]);
        // The last message of a datagram need not be padded; never step past the end.
        _remaining = _remaining[Math.Min(NLMSG_ALIGN(length), _remaining.Length)..];
        return true;
    }
}
