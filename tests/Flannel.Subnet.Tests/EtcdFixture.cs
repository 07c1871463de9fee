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
}
