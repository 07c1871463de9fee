using System.Text;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>Every link (<c>ip link show</c>).</summary>
    public IReadOnlyList<LinkInfo> ListLinks() =>
        Dump<LinkInfo>(RtnetlinkRequests.DumpLinks(), "list links", RtnetlinkMessages.TryReadLink);

    /// <summary>The link called <paramref name="name"/>, or null when there is none.</summary>
    /// <exception cref="ArgumentException">The name is empty or longer than IFNAMSIZ - 1 (15) bytes.</exception>
    public LinkInfo? GetLink(string name)
    {
        ValidateLinkName(name);
        return GetLink(RtnetlinkRequests.GetLink(0, name), $"get link \"{name}\"");
    }

    /// <summary>The link with index <paramref name="index"/>, or null when there is none.</summary>
    public LinkInfo? GetLink(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        return GetLink(RtnetlinkRequests.GetLink(index, null), $"get link #{index}");
    }

    /// <summary>The index of the link called <paramref name="name"/>.</summary>
    /// <exception cref="NetlinkException">There is no such link (Errno ENODEV).</exception>
    public int GetLinkIndex(string name) =>
        GetLink(name)?.Index ?? throw new NetlinkException($"find link \"{name}\"", LibC.ENODEV, "no link by that name");

    /// <summary><c>ip link set dev #index up</c>.</summary>
    public void SetLinkUp(int index) =>
        Request(RtnetlinkRequests.ChangeLink(index, flags: IFF_UP, change: IFF_UP), $"set link #{index} up");

    /// <summary><c>ip link set dev #index down</c>.</summary>
    public void SetLinkDown(int index) =>
        Request(RtnetlinkRequests.ChangeLink(index, flags: 0, change: IFF_UP), $"set link #{index} down");

    /// <summary><c>ip link set dev #index mtu N</c>.</summary>
    public void SetLinkMtu(int index, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        var request = RtnetlinkRequests.ChangeLink(index);
        request.AddU32(IFLA_MTU, (uint)mtu);
        Request(request, $"set link #{index} mtu {mtu}");
    }

    private LinkInfo? GetLink(NetlinkMessageBuilder request, string operation)
    {
        LinkInfo? found = null;
        try
        {
            Request(request, operation, message =>
            {
                if (RtnetlinkMessages.TryReadLink(message, out var link))
                {
                    found = link;
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == LibC.ENODEV)
        {
            return null;
        }
        return found;
    }

    private static void ValidateLinkName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= IFNAMSIZ)
        {
            throw new ArgumentException($"link name \"{name}\" is longer than {IFNAMSIZ - 1} bytes", nameof(name));
        }
    }
}
