using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>The host's interfaces as the kernel reports them (in the network namespace the daemon runs in).</summary>
public sealed class SystemInterfaceSource : IInterfaceSource
{
    public IReadOnlyList<InterfaceCandidate> List()
    {
        var result = new List<InterfaceCandidate>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            var props = ni.GetIPProperties();
            IPv4InterfaceProperties? v4;
            try
            {
                v4 = props.GetIPv4Properties();
            }
            catch (NetworkInformationException)
            {
                continue; // no IPv4 on this interface
            }
            var addrs = props.UnicastAddresses
                .Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork)
                .Select(u => Ip4Address.FromBytes(u.Address.GetAddressBytes()))
                .ToList();
            var addrs6 = props.UnicastAddresses
                .Where(u => u.Address.AddressFamily == AddressFamily.InterNetworkV6 && !u.Address.IsIPv6LinkLocal &&
                            !System.Net.IPAddress.IsLoopback(u.Address))
                .Select(u => Ip6Address.Parse(u.Address.ToString()))
                .ToList();
            result.Add(new InterfaceCandidate(ni.Name, v4?.Index ?? 0, v4?.Mtu ?? 0, addrs) { Ipv6Addresses = addrs6 });
        }
        return result;
    }

    /// <summary>Reads /proc/net/route (the IPv4 main table as the kernel exports it) for 0.0.0.0/0.</summary>
    public string? DefaultRouteInterface()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/net/route");
        }
        catch (IOException)
        {
            return null;
        }
        string? best = null;
        long bestMetric = long.MaxValue;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
            if (f.Length >= 8 && f[1] == "00000000" && f[7] == "00000000" &&
                long.TryParse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out long metric) && metric < bestMetric)
            {
                best = f[0];
                bestMetric = metric;
            }
        }
        return best;
    }

    /// <summary><c>ip route get</c> (<c>ip -6 route get</c>) over rtnetlink, for --iface-can-reach.</summary>
    public string? InterfaceToReach(IpAddress destination)
    {
        using var rtnl = RtnetlinkClient.Open();
        return rtnl.GetRouteTo(destination) is { LinkIndex: > 0 } route ? rtnl.GetLink(route.LinkIndex)?.Name : null;
    }
}
