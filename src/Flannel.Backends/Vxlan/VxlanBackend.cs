using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Backends.Vxlan;

/// <summary>
/// vxlan: the kernel's VXLAN device <c>flannel.&lt;VNI&gt;</c> (and <c>flannel-v6.&lt;VNI&gt;</c> on a dual-stack
/// network) carries the packets; this backend programs it over
/// rtnetlink exactly as flanneld does (compat §7), so a fleet can mix flanneld and this daemon.
/// </summary>
internal sealed class VxlanBackend : IBackend
{
    /// <summary>Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14).</summary>
    public const int Overhead = 50;

    /// <summary>The same over an outer IPv6 header (40): the kernel's VXLAN6_HEADROOM.</summary>
    public const int Overhead6 = 70;

    /// <summary>
    /// flannel-v6.VNI's MTU. flanneld creates it with the IPv4 device's MTU, which the kernel clamps to the parent's
    /// MTU less VXLAN6_HEADROOM (vxlan_config_apply()); setting more later fails with EINVAL. So it is that, and the
    /// larger IPv6 packets a container sends get an ICMPv6 Packet Too Big.
    /// </summary>
    public static int Ipv6Mtu(int mtu, int parentMtu) => Math.Min(mtu, parentMtu - Overhead6);

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
        var devices = new List<VxlanInfo>();
        // flanneld: flannel.VNI for IPv4 and, on a dual-stack network, flannel-v6.VNI over the IPv6 underlay.
        foreach (var family in _context.Config.Families)
        {
            try
            {
                var device = VxlanDevice.Ensure(rtnl, options, family, iface, family == IpFamily.Ip6 ? Ipv6Mtu(mtu, iface.Mtu) : mtu, log);
                TurnOffChecksumOffloadIfNeeded(device.Name, log);
                devices.Add(device);
            }
            catch (NetlinkException e)
            {
                rtnl.Dispose();
                throw new BackendException($"vxlan backend: cannot set up {VxlanDevice.NameOf(options, family)}: {e.Message}", e);
            }
            catch (BackendException)
            {
                rtnl.Dispose();
                throw;
            }
        }
        return Task.FromResult<IBackendNetwork>(new VxlanNetwork(_context, rtnl, devices, options, mtu,
            name => TurnOffChecksumOffloadIfNeeded(name, log)));
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
