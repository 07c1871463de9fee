using Flannel.Subnet.Etcd;

namespace Flannel.Subnet.Tests;

/// <summary>One real etcd shared by a test class; each test works under its own key prefix.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public EtcdServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await EtcdServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public EtcdOptions NewOptions() => new()
    {
        Endpoints = [Server.Endpoint],
        Prefix = $"/test-{Guid.NewGuid():N}/network",
    };

    /// <summary>A network config of the lease tests (a /16 with vxlan by default).</summary>
    public const string DefaultConfig = """{"Network":"10.20.0.0/16","Backend":{"Type":"vxlan"}}""";

    /// <summary>Options under a fresh prefix whose config key already holds <paramref name="config"/>.</summary>
    public async Task<EtcdOptions> NewNetworkAsync(string config = DefaultConfig)
    {
        var o = NewOptions();
        using var c = Server.NewClient();
        await c.PutAsync(o.ConfigKey, config);
        return o;
    }
}
