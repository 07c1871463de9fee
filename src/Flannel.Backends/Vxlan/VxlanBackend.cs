using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// vxlan: the kernel's VXLAN device <c>flannel.&lt;VNI&gt;</c> carries the packets; this backend programs it over
/// rtnetlink exactly as flanneld does (compat §7), so a fleet can mix flanneld and this daemon.
/// </summary>
internal sealed class VxlanBackend : IBackend
{
    /// <summary>Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14).</summary>
    public const int Overhead = 50;

    private readonly BackendContext _context;

    public VxlanBackend(BackendContext context) => _context = context;

    public string Type => BackendTypes.Vxlan;

    public Task<IBackendNetwork> RegisterNetworkAsync(CancellationToken ct)
    {
        var options = VxlanOptions.Parse(_context.Config.BackendJson);
        var iface = _context.Iface;
        var log = _context.Logs.CreateLogger<VxlanBackend>();
        int mtu = options.Mtu > 0 ? options.Mtu : iface.Mtu - Overhead;
        var rtnl = RtnetlinkClient.Open();
        try
        {
            var device = VxlanDevice.Ensure(rtnl, options, iface, mtu, log);
            TurnOffChecksumOffloadIfNeeded(device.Name, log);
            return Task.FromResult<IBackendNetwork>(new VxlanNetwork(_context, rtnl, device, options, mtu,
                name => TurnOffChecksumOffloadIfNeeded(name, log)));
        }
        catch (NetlinkException e)
        {
            rtnl.Dispose();
            throw new BackendException($"vxlan backend: cannot set up flannel.{options.Vni}: {e.Message}", e);
        }
    }

    /// <summary>
    /// flannel issues #1279 / #1243: with tx checksum offload on a VXLAN device and MASQUERADE --random-fully, kernels
    /// before 5.7 send bad checksums and TCP stalls for about 63 s; flanneld never worked around it. Offload goes off
    /// there, and everywhere when the operator says so.
    /// </summary>
    private void TurnOffChecksumOffloadIfNeeded(string device, ILogger log)
    {
        string? reason = !_context.VxlanChecksumOffload
            ? "--vxlan-csum-offload=false"
            : ChecksumOffloadBroken(Environment.OSVersion.Version)
                ? $"kernel {Environment.OSVersion.Version} is older than 5.7 (flannel issues #1279, #1243: TCP stalls with --random-fully)"
                : null;
        if (reason is null)
        {
            return;
        }
        try
        {
            Ethtool.SetTxChecksum(device, false);
            VxlanLog.ChecksumOffloadOff(log, device, reason);
        }
        catch (LinuxException e)
        {
            VxlanLog.ChecksumOffloadFailed(log, device, e.Message);
        }
    }

    public static bool ChecksumOffloadBroken(Version kernel) => kernel < new Version(5, 7);
}
