using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Backends.Vxlan;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Kernel entries written the way <c>ip route</c>, <c>ip neigh</c> and <c>bridge fdb</c> show them.</summary>
internal static class KernelText
{
    public static string Route(Route r, KernelSnapshot kernel)
    {
        string text = r.Destination.ToString();
        if (r.Gateway is { } gw)
        {
            text += $" via {gw}";
        }
        if (r.LinkIndex > 0)
        {
            text += $" dev {LinkName(r.LinkIndex, kernel)}";
        }
        return r.OnLink ? text + " onlink" : text;
    }

    public static string Mac(PhysicalAddress? mac) => mac is null ? "(none)" : VxlanBackendData.FormatMac(mac);

    private static string LinkName(int index, KernelSnapshot kernel) =>
        kernel.Device is { } d && d.Index == index ? d.Name
        : kernel.LinkNames.TryGetValue(index, out var name) ? name
        : $"#{index}";
}
