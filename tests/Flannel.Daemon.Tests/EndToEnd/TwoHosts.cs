using System.Globalization;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Two simulated hosts with the published daemon and one container each, on a network config written under
/// <see cref="Prefix"/>: the set-up the fault and metrics tests share.
/// </summary>
internal sealed record TwoHosts(Testbed Bed, string Prefix, string H1, string H2, TestDaemon D1, TestDaemon D2,
    Dictionary<string, string> Env1, Dictionary<string, string> Env2, string C1, string C2, string A1, string A2)
{
    /// <param name="host1Args">Extra flags for host 1's daemon (the health port, a renew margin).</param>
    public static async Task<TwoHosts> StartAsync(Testbed bed, string prefix, string backend, string network, string[]? host1Args = null)
    {
        bed.Etcdctl(true, "put", prefix + "/config", "{\"Network\":\"" + network + "\",\"Backend\":{\"Type\":\"" + backend + "\"}}");
        string h1 = bed.AddHost(1), h2 = bed.AddHost(2);
        var d1 = TestDaemon.Start(bed, h1, prefix, host1Args);
        var d2 = TestDaemon.Start(bed, h2, prefix);
        var env1 = await d1.WaitForSubnetEnvAsync(bed);
        var env2 = await d2.WaitForSubnetEnvAsync(bed);
        int mtu = int.Parse(env1["FLANNEL_MTU"], CultureInfo.InvariantCulture);
        string c1 = bed.AddContainer(h1, env1["FLANNEL_SUBNET"], mtu), c2 = bed.AddContainer(h2, env2["FLANNEL_SUBNET"], mtu);
        return new TwoHosts(bed, prefix, h1, h2, d1, d2, env1, env2, c1, c2,
            Testbed.ContainerAddress(env1["FLANNEL_SUBNET"]), Testbed.ContainerAddress(env2["FLANNEL_SUBNET"]));
    }
}
