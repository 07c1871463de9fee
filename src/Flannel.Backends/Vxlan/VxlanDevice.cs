using System.Net.NetworkInformation;
using System.Security.Cryptography;
using Flannel.Backends.Host;
using Flannel.Backends.Netlink;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>Creates or reuses the <c>flannel.&lt;VNI&gt;</c> device as flanneld's vxlan backend does (compat §7).</summary>
internal static class VxlanDevice
{
    /// <summary>
    /// An existing device with the same VNI, local address, parent, port, GBP and learning is kept with its MAC, so the
    /// VtepMAC peers know stays valid across restarts; anything else of that name is deleted and created anew.
    /// </summary>
    public static VxlanInfo Ensure(RouteNetlink rtnl, VxlanOptions options, ExternalInterface iface, int mtu, ILogger log)
    {
        string name = $"flannel.{options.Vni}";
        ushort port = options.Port == 0 ? VxlanOptions.KernelDefaultPort : options.Port;
        var existing = rtnl.GetVxlan(name);
        if (existing is not null)
        {
            if (existing.Vni == options.Vni && existing.Local == iface.Address && existing.ParentIndex == iface.Index &&
                existing.Port == port && existing.Gbp == options.Gbp && existing.Learning == options.Learning)
            {
                VxlanLog.DeviceReused(log, name, Mac(existing.Mac));
                return Configure(rtnl, existing, mtu);
            }
            VxlanLog.DeviceIncompatible(log, name, existing.ToString());
            rtnl.DeleteLink(existing.Index);
        }
        else if (rtnl.GetLink(name) is { } other)
        {
            VxlanLog.DeviceIncompatible(log, name, $"a {other.Kind ?? "non-vxlan"} link");
            rtnl.DeleteLink(other.Index);
        }
        var mac = RandomLocalMac();
        rtnl.CreateVxlan(new VxlanSpec(name, options.Vni, iface.Address, iface.Index, options.Port, options.Learning, options.Gbp, mtu, mac));
        var created = rtnl.GetVxlan(name) ?? throw new BackendException($"vxlan backend: {name} vanished right after it was created");
        VxlanLog.DeviceCreated(log, name, Mac(created.Mac), options.Vni, iface.Name, port);
        return Configure(rtnl, created, mtu);
    }

    private static VxlanInfo Configure(RouteNetlink rtnl, VxlanInfo device, int mtu)
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
