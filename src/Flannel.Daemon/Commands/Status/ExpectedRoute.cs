using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Commands.Status;

/// <summary>A route a peer lease asks for: destination and gateway, and the device when it matters.</summary>
internal sealed record ExpectedRoute(Ip4Network Destination, Ip4Address Gateway, int? LinkIndex)
{
    public bool Matches(Route r) =>
        r.Destination == Destination && r.Gateway == Gateway && (LinkIndex is not { } link || r.LinkIndex == link);

    public bool IsIn(KernelSnapshot kernel) => kernel.Routes.Any(Matches);
}
