using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Host;

/// <summary>The host's interfaces as the kernel reports them (in the network namespace the daemon runs in).</summary>
public sealed class SystemHostInterfaces : IHostInterfaces
{
    private readonly Func<Ip4Address, string?>? _routeLookup;

    /// <param name="routeLookup">Resolves <c>ip route get</c> (rtnetlink); null makes --iface-can-reach find nothing.</param>
    public SystemHostInterfaces(Func<Ip4Address, string?>? routeLookup = null) => _routeLookup = routeLookup;

    public IReadOnlyList<HostInterface> List()
    {
        var result = new List<HostInterface>();
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
            result.Add(new HostInterface(ni.Name, v4?.Index ?? 0, v4?.Mtu ?? 0, addrs));
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

    public string? InterfaceToReach(Ip4Address destination) => _routeLookup?.Invoke(destination);
}
