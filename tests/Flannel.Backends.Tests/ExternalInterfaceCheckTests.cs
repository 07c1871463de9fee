using Flannel.Backends.Interfaces;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests;

[Unit]
public class ExternalInterfaceCheckTests
{
    private sealed class FakeHost : IInterfaceSource
    {
        public List<InterfaceCandidate> Interfaces { get; } = [new("eth0", 2, 1500, [Ip4Address.Parse("198.51.100.1")])];
        public string? DefaultRoute { get; set; } = "eth0";
        public IReadOnlyList<InterfaceCandidate> List() => Interfaces;
        public string? DefaultRouteInterface() => DefaultRoute;
        public string? InterfaceToReach(IpAddress destination) => null;
    }

    private static readonly ExternalInterface Running = new("eth0", 2, 1500, Ip4Address.Parse("198.51.100.1"), Ip4Address.Parse("198.51.100.1"));

    [Fact]
    public void Unchanged_only_when_up_the_same_and_no_loss_was_seen()
    {
        Assert.Equal(InterfaceVerdict.Unchanged, ExternalInterfaceCheck.Decide(Running, Running, linkUp: true, lostBefore: false));
        // Down and up again between two looks: the kernel dropped the routes through it, so rebuild all the same.
        Assert.Equal(InterfaceVerdict.Changed, ExternalInterfaceCheck.Decide(Running, Running, linkUp: true, lostBefore: true));
        Assert.Equal(InterfaceVerdict.Lost, ExternalInterfaceCheck.Decide(Running, Running, linkUp: false, lostBefore: false));
        Assert.Equal(InterfaceVerdict.Lost, ExternalInterfaceCheck.Decide(Running, null, linkUp: true, lostBefore: false));
    }

    [Theory]
    [InlineData(9, "198.51.100.1", 1500)] // deleted and created again: a new ifindex
    [InlineData(2, "198.51.100.7", 1500)] // renumbered
    [InlineData(2, "198.51.100.1", 9000)] // MTU changed
    public void A_new_index_address_or_MTU_is_a_change(int index, string address, int mtu)
    {
        var now = Running with { Index = index, Address = Ip4Address.Parse(address), PublicIP = Ip4Address.Parse(address), Mtu = mtu };
        Assert.Equal(InterfaceVerdict.Changed, ExternalInterfaceCheck.Decide(Running, now, linkUp: true, lostBefore: false));
        Assert.NotEqual("same index and address", ExternalInterfaceCheck.Describe(Running, now));
    }

    [Fact]
    public void Renumbering_moves_the_PublicIP_unless_public_ip_was_given()
    {
        var host = new FakeHost();
        host.Interfaces[0] = new("eth0", 2, 1500, [Ip4Address.Parse("198.51.100.7")]);
        var derived = ExternalInterfaceCheck.Resolve(new InterfaceOptions { Ifaces = ["eth0"] }, host, Running, out _);
        Assert.Equal("198.51.100.7", derived!.PublicIP.ToString());
        var explicitIp = ExternalInterfaceCheck.Resolve(new InterfaceOptions { Ifaces = ["eth0"], PublicIp = "203.0.113.5" }, host, Running, out _);
        Assert.Equal(("198.51.100.7", "203.0.113.5"), (explicitIp!.Address.ToString(), explicitIp.PublicIP.ToString()));
    }

    [Fact]
    public void A_vanished_default_route_keeps_the_running_interface_when_it_still_has_its_address()
    {
        var host = new FakeHost { DefaultRoute = null };
        var now = ExternalInterfaceCheck.Resolve(new InterfaceOptions(), host, Running, out string? problem);
        Assert.Null(problem);
        Assert.Equal(Running, now);
    }

    [Fact]
    public void An_interface_without_its_address_or_gone_is_lost_with_the_reason()
    {
        var host = new FakeHost();
        host.Interfaces[0] = new("eth0", 2, 1500, []);
        Assert.Null(ExternalInterfaceCheck.Resolve(new InterfaceOptions { Ifaces = ["eth0"] }, host, Running, out string? noAddress));
        Assert.Contains("no usable IPv4 address", noAddress, StringComparison.Ordinal);
        host.Interfaces.Clear();
        Assert.Null(ExternalInterfaceCheck.Resolve(new InterfaceOptions { Ifaces = ["eth0"] }, host, Running, out string? gone));
        Assert.Equal("eth0 does not exist", gone);
    }
}
