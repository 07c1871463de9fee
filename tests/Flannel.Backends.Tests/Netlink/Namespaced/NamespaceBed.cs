using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced;

/// <summary>
/// A fresh network namespace with a veth pair (veth0, veth1, both inside it; this kernel has no dummy links) and a
/// <see cref="RtnetlinkClient"/> opened inside it. Set up with <c>ip</c>, so the client is only what the test checks.
/// Everything is torn down on Dispose, namespace included.
/// </summary>
internal sealed class NamespaceBed : IDisposable
{
    /// <summary>veth0's address when the underlay is configured.</summary>
    public static readonly Ip4Address Local = Ip4Address.Parse("198.51.100.1");

    /// <summary>A would-be peer on veth0's subnet (no host answers; routes only need it to be on-link).</summary>
    public static readonly Ip4Address Peer = Ip4Address.Parse("198.51.100.2");

    private NamespaceBed(NetNs ns, RtnetlinkClient rtnl)
    {
        Ns = ns;
        Rtnl = rtnl;
        Veth0 = rtnl.GetLinkIndex("veth0");
        Veth1 = rtnl.GetLinkIndex("veth1");
    }

    public NetNs Ns { get; }

    public RtnetlinkClient Rtnl { get; }

    public int Veth0 { get; }

    public int Veth1 { get; }

    /// <param name="underlay">Also give veth0 198.51.100.1/24 and bring both ends up (carrier on).</param>
    public static NamespaceBed Create(bool underlay = false)
    {
        var ns = NetNs.Create();
        RtnetlinkClient? rtnl = null;
        try
        {
            ns.Ip("link", "add", "veth0", "type", "veth", "peer", "name", "veth1");
            if (underlay)
            {
                ns.Ip("addr", "add", "198.51.100.1/24", "dev", "veth0");
                ns.Ip("link", "set", "veth0", "up");
                ns.Ip("link", "set", "veth1", "up");
            }
            rtnl = ns.Run(RtnetlinkClient.Open);
            return new NamespaceBed(ns, rtnl);
        }
        catch
        {
            rtnl?.Dispose();
            ns.Dispose();
            throw;
        }
    }

    /// <summary><c>ip route show</c> (main table), one trimmed line per route.</summary>
    public string[] IpRoutes() =>
        Ns.Ip("route", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Dispose()
    {
        try
        {
            Rtnl.Dispose();
        }
        finally
        {
            Ns.Dispose();
        }
    }
}
