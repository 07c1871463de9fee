using System.Net.NetworkInformation;
using Flannel.Backends.Netlink;
using Flannel.Daemon.Commands.Status;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Tests.Status;

/// <summary>Made-up leases and kernel snapshots for the drift rules: network 10.5.0.0/16, we are 10.5.1.0/24.</summary>
internal static class StatusFixtures
{
    public const int Dev = 7, Eth0 = 2;
    public static readonly Ip4Network OwnSubnet = Ip4Network.ParseCidr("10.5.1.0/24");

    public static NetworkConfig Config(string backendJson) =>
        NetworkConfigParser.Parse($$"""{"Network":"10.5.0.0/16","Backend":{{backendJson}}}""");

    public static LeaseWithTtl Vxlan(string subnet, string publicIp, string mac, long ttl = 86_000) =>
        Lease(subnet, new LeaseAttrs(Ip4Address.Parse(publicIp), BackendType: "vxlan", BackendData: $$"""{"VNI":1,"VtepMAC":"{{mac}}"}"""), ttl);

    public static LeaseWithTtl Other(string subnet, string publicIp, string? type, long ttl = 86_000) =>
        Lease(subnet, new LeaseAttrs(Ip4Address.Parse(publicIp), BackendType: type), ttl);

    private static LeaseWithTtl Lease(string subnet, LeaseAttrs attrs, long ttl) =>
        new(new Lease(new SubnetKey(Ip4Network.ParseCidr(subnet)), attrs, 42, 1), TimeSpan.FromSeconds(ttl));

    public static PhysicalAddress Mac(string text) => PhysicalAddress.Parse(text.Replace(':', '-').ToUpperInvariant());

    public static Route OnlinkRoute(string subnet) =>
        Route.Via(Ip4Network.ParseCidr(subnet), Ip4Network.ParseCidr(subnet).Ip, Dev, onLink: true);

    public static Route ViaRoute(string subnet, string gateway, int link = Eth0) =>
        Route.Via(Ip4Network.ParseCidr(subnet), Ip4Address.Parse(gateway), link);

    public static Neighbour Neigh(string address, string mac) => new(Dev, Ip4Address.Parse(address), Mac(mac), Neighbour.NudPermanent);

    public static FdbEntry Fdb(string mac, string dst) => new(Dev, Mac(mac), Ip4Address.Parse(dst), Neighbour.NudPermanent, 0x02);

    public static KernelSnapshot Kernel(string? device, IEnumerable<Route>? routes = null, IEnumerable<Neighbour>? neighbours = null,
        IEnumerable<FdbEntry>? fdb = null, IEnumerable<string>? directlyReachable = null) =>
        new(device is null ? null : new StatusDevice(device, Dev),
            [.. routes ?? [], Route.Direct(OwnSubnet, 9)], // our docker bridge's route is always there and never drift
            // A running daemon's device holds our lease's .0/32 (flanneld's EnsureV4AddressOnLink).
            device is null ? [] : [new AddressInfo(Dev, new Ip4Network(OwnSubnet.Ip, 32), RouteScope.Universe, device)],
            [.. neighbours ?? []], [.. fdb ?? []],
            new Dictionary<int, string> { [Eth0] = "eth0", [9] = "cbr0" },
            (directlyReachable ?? []).Select(s => (IpAddress)Ip4Address.Parse(s)).ToHashSet(), ExternalLink: 0);

    public static StatusReport Analyze(NetworkConfig config, KernelSnapshot kernel, params LeaseWithTtl[] leases) =>
        DriftAnalyzer.Analyze(new StatusInputs(config, "/coreos.com/network/config", leases,
            new OwnHost(OwnSubnet, null, "FLANNEL_SUBNET of /run/flannel/subnet.env"), kernel));

    public static StatusLeaseRow Row(StatusReport report, string subnet) => report.Leases.Single(l => l.Subnet == subnet);

    public static string[] DriftTexts(StatusReport report) => [.. report.Drift.Select(d => d.Text)];
}
