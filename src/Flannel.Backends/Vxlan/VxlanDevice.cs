using System.Net.NetworkInformation;
using System.Security.Cryptography;
using Flannel.Backends.Interfaces;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// Creates or reuses the <c>flannel.&lt;VNI&gt;</c> device, and on a dual-stack network <c>flannel-v6.&lt;VNI&gt;</c> over
/// the IPv6 underlay, as flanneld's vxlan backend does (compat §7).
/// </summary>
internal static class VxlanDevice
{
    /// <summary>
    /// An existing device with the same VNI, local address, parent, port, GBP and learning is kept with its MAC, so the
    /// VtepMAC peers know stays valid across restarts; anything else of that name is deleted and created anew.
    /// </summary>
    public static VxlanInfo Ensure(RtnetlinkClient rtnl, VxlanOptions options, IpFamily family, ExternalInterface iface, int mtu, ILogger log)
    {
        string name = NameOf(options, family);
        var existing = rtnl.GetVxlan(name);
        if (existing is not null && Matches(existing, options, family, iface))
        {
            VxlanLog.DeviceReused(log, name, Mac(existing.Mac));
            return Configure(rtnl, existing, mtu);
        }
        return Create(rtnl, options, family, iface, mtu, RandomLocalMac(), log);
    }

    /// <summary>
    /// The device as it must be for <paramref name="iface"/>, with <paramref name="mac"/>: an existing one that matches
    /// (MAC included) is kept, anything else of that name deleted and the device created with that MAC. Used to bring
    /// the device back after it was deleted (by hand, or by the kernel with its parent link) or its parent changed:
    /// the VtepMAC stays what our lease and every peer's FDB already say.
    /// </summary>
    public static VxlanInfo EnsureWithMac(RtnetlinkClient rtnl, VxlanOptions options, IpFamily family, ExternalInterface iface, int mtu, PhysicalAddress mac,
        ILogger log)
    {
        var existing = rtnl.GetVxlan(NameOf(options, family));
        if (existing is not null && Matches(existing, options, family, iface) && Equals(existing.Mac, mac))
        {
            return Configure(rtnl, existing, mtu);
        }
        return Create(rtnl, options, family, iface, mtu, mac, log);
    }

    public static string NameOf(VxlanOptions options, IpFamily family) => VxlanDesiredState.DeviceName(options, family);

    /// <summary>The local (source) address of the family's device: the external interface's address of that family.</summary>
    public static IpAddress LocalOf(ExternalInterface iface, IpFamily family) =>
        family == IpFamily.Ip6
            ? iface.Address6 ?? throw new BackendException($"vxlan backend: the external interface {iface.Name} has no IPv6 address for flannel-v6")
            : iface.Address;

    /// <summary>Whether an existing device is what <paramref name="options"/> and <paramref name="iface"/> ask for.</summary>
    public static bool Matches(VxlanInfo existing, VxlanOptions options, IpFamily family, ExternalInterface iface) =>
        existing.Vni == options.Vni && existing.Local == LocalOf(iface, family) && existing.ParentIndex == iface.Index &&
        existing.Port == (options.Port == 0 ? VxlanOptions.KernelDefaultPort : options.Port) &&
        existing.Gbp == options.Gbp && existing.Learning == options.Learning;

    private static VxlanInfo Create(RtnetlinkClient rtnl, VxlanOptions options, IpFamily family, ExternalInterface iface, int mtu, PhysicalAddress mac,
        ILogger log)
    {
        string name = NameOf(options, family);
        if (rtnl.GetVxlan(name) is { } existing)
        {
            VxlanLog.DeviceIncompatible(log, name, existing.ToString());
            rtnl.DeleteLink(existing.Index);
        }
        else if (rtnl.GetLink(name) is { } other)
        {
            VxlanLog.DeviceIncompatible(log, name, $"a {other.Kind ?? "non-vxlan"} link");
            rtnl.DeleteLink(other.Index);
        }
        rtnl.CreateVxlan(new VxlanSpec(name, options.Vni, LocalOf(iface, family), iface.Index, options.Port, options.Learning, options.Gbp, mtu, mac));
        var created = rtnl.GetVxlan(name) ?? throw new BackendException($"vxlan backend: {name} vanished right after it was created");
        ushort port = options.Port == 0 ? VxlanOptions.KernelDefaultPort : options.Port;
        VxlanLog.DeviceCreated(log, name, Mac(created.Mac), options.Vni, iface.Name, port);
        return Configure(rtnl, created, mtu);
    }

    private static VxlanInfo Configure(RtnetlinkClient rtnl, VxlanInfo device, int mtu)
    {
        if (device.Mtu != mtu)
        {
            rtnl.SetLinkMtu(device.Index, mtu);
        }
        // flanneld sets accept_ra to 0: router advertisements must not configure the overlay device.
        TryWrite($"/proc/sys/net/ipv6/conf/{device.Name}/accept_ra", "0");
        rtnl.SetLinkUp(device.Index);
        return rtnl.GetVxlan(device.Name) ?? device;
    }

    /// <summary>A random locally administered unicast MAC (first byte &amp; 0xfe | 0x02), as flannel's mac package.</summary>
    public static PhysicalAddress RandomLocalMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(6);
        bytes[0] = (byte)((bytes[0] & 0xfe) | 0x02);
        return new PhysicalAddress(bytes);
    }

    private static string Mac(PhysicalAddress? mac) => mac is null ? "none" : VxlanBackendData.FormatMac(mac);

    private static void TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
