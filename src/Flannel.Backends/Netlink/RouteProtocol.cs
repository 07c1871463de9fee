namespace Flannel.Backends.Netlink;

/// <summary>Well-known rtm_protocol values (rtnetlink.h RTPROT_*).</summary>
internal static class RouteProtocol
{
    public const byte Unspecified = 0;
    public const byte Redirect = 1;
    public const byte Kernel = 2;
    public const byte Boot = 3;
    public const byte Static = 4;
}
