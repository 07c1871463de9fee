using Flannel.Subnet.Etcd;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests;

/// <summary>One simulated host's view of etcd: a connection, the registry and a lease manager.</summary>
internal sealed class TestHost : IDisposable
{
    public TestHost(EtcdOptions options, string publicIp, LeaseManagerOptions? managerOptions = null, string? backendType = null)
    {
        Options = options;
        Connection = new EtcdConnection(options);
        RegistryLog = new ListLogger<EtcdSubnetRegistry>();
        // The registry stamps expirations with the manager's clock, which compares them with its own now.
        Registry = new EtcdSubnetRegistry(Connection, RegistryLog, managerOptions?.TimeProvider);
        Log = new ListLogger<LeaseManager>();
        Manager = new LeaseManager(Registry, managerOptions ?? new LeaseManagerOptions(), Log, options.ConfigKey);
        Attrs = new LeaseAttrs(Ip4Address.Parse(publicIp), BackendType: backendType);
    }

    public EtcdOptions Options { get; }
    public EtcdConnection Connection { get; }
    public ListLogger<EtcdSubnetRegistry> RegistryLog { get; }
    public EtcdSubnetRegistry Registry { get; }
    public ListLogger<LeaseManager> Log { get; }
    public LeaseManager Manager { get; }
    public LeaseAttrs Attrs { get; }

    public async Task<Lease> AcquireAsync(PreviousSubnets? previous = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var config = await Manager.WaitForConfigAsync(cts.Token);
        return await Manager.AcquireAsync(config, Attrs, previous ?? PreviousSubnets.None, cts.Token);
    }

    public void Dispose()
    {
        Manager.Dispose();
        Connection.Dispose();
    }
}
