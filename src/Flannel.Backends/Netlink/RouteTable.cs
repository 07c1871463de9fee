namespace Flannel.Backends.Netlink;

/// <summary>Well-known routing table ids (rtnetlink.h RT_TABLE_*).</summary>
public static class RouteTable
{
    public const byte Main = 254;
    public const byte Local = 255;
}
