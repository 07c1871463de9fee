using Flannel.Backends.Vxlan;
using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

/// <summary>A <see cref="NamespaceBed"/> with underlay plus flannel.1 over veth0 (created with the client), up.</summary>
internal sealed class VxlanBed : IDisposable
{
    public const string Name = "flannel.1";

    private VxlanBed(NamespaceBed bed, int index)
    {
        Bed = bed;
        Index = index;
    }

    public NamespaceBed Bed { get; }

    public int Index { get; }

    public RtnetlinkClient Rtnl => Bed.Rtnl;

    public static VxlanBed Create()
    {
        var bed = NamespaceBed.Create(underlay: true);
        try
        {
            int index = bed.Rtnl.CreateVxlan(Spec(bed));
            bed.Rtnl.SetLinkUp(index);
            return new VxlanBed(bed, index);
        }
        catch
        {
            bed.Dispose();
            throw;
        }
    }

    public static VxlanSpec Spec(NamespaceBed bed) =>
        new(Name, 1, NamespaceBed.Local, bed.Veth0, Port: 0, Learning: false, Gbp: false, Mtu: 0);

    /// <summary>02:42:0a:05:hi:lo, a locally administered unicast MAC derived from <paramref name="n"/>.</summary>
    public static PhysicalAddress Mac(int n) => new([0x02, 0x42, 0x0a, 0x05, (byte)(n >> 8), (byte)n]);

    /// <summary>10.(5 + n / 256).(n % 256).0: the network address of peer n's /24.</summary>
    public static Ip4Address PeerNet(int n) => new(0x0A05_0000u + ((uint)n << 8));

    /// <summary>198.51.(100 + n / 250).(n % 250 + 2): peer n's public address (on-link or not, fdb does not care).</summary>
    public static Ip4Address PeerIp(int n) => new(0xC633_6400u + ((uint)(n / 250) << 8) + (uint)(n % 250 + 2));

    /// <summary><c>ip</c>'s lines, trimmed.</summary>
    public string[] Lines(params string[] args) =>
        Bed.Ns.Ip(args).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary><c>bridge</c>'s lines, trimmed.</summary>
    public string[] BridgeLines(params string[] args) =>
        Bed.Ns.Exec(["bridge", .. args]).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Dispose() => Bed.Dispose();
}
