namespace Flannel.Backends.HostGw;

/// <summary>
/// host-gw: plain routes to each peer's subnet via the peer's host address (compat §8). Every host must be on the same
/// L2 network; there is no encapsulation and the MTU is the interface's.
/// </summary>
internal sealed class HostGwBackend : IBackend
{
    private readonly BackendContext _context;
    private readonly Func<IRouteTable> _routes;

    public HostGwBackend(BackendContext context) : this(context, NetlinkRouteTable.Open) { }

    internal HostGwBackend(BackendContext context, Func<IRouteTable> routes)
    {
        _context = context;
        _routes = routes;
    }

    public string Type => BackendTypes.HostGw;

    public Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct)
    {
        var iface = _context.Iface;
        if (iface.PublicIP != iface.Address)
        {
            // flanneld's wording: peers would route to an address that is not on the wire.
            throw new BackendException("your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend");
        }
        return Task.FromResult<IBackendNetwork>(new HostGwNetwork(_context, _routes()));
    }
}
