using System.Globalization;
using Flannel.Backends;
using Flannel.Daemon.Cli;
using Flannel.Subnet;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Commands;

/// <summary>
/// <c>flanneld lease --public-ip IP [etcd flags]</c>: acquires this host's lease (or finds the one it holds) exactly as
/// the daemon does at start, prints it and exits, without touching the network. For checking a host's etcd access
/// and pre-assigning subnets.
/// </summary>
internal static class LeaseCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, ILoggerFactory logs, CancellationToken ct)
    {
        var flags = new FlagSet();
        var etcdFlags = new EtcdFlags(flags);
        var publicIp = flags.Text("public-ip", "", "IP accessible by other nodes for inter-host communication (required)");
        var subnetFile = flags.Text("subnet-file", SubnetFile.DefaultPath, "subnet file of a previous run: its FLANNEL_SUBNET is asked for again");
        if (CommandFlags.Parse(flags, args, stderr,
                "usage: flanneld lease --public-ip IP [--subnet-file PATH] [--etcd-endpoints URLS] [--etcd-prefix PREFIX] [--etcd-* TLS/auth flags]") is { } exit)
        {
            return exit;
        }
        if (!Ip4Address.TryParse(publicIp.Value, out var ip))
        {
            stderr.WriteLine(publicIp.Value.Length == 0 ? "error: --public-ip is required" : $"error: --public-ip is not an IPv4 address: {publicIp.Value}");
            return 2;
        }

        var options = etcdFlags.ToOptions();
        using var etcd = new EtcdConnection(options);
        var registry = new EtcdSubnetRegistry(etcd, logs.CreateLogger<EtcdSubnetRegistry>());
        using var manager = new LeaseManager(registry, new LeaseManagerOptions(), logs.CreateLogger<LeaseManager>(), options.ConfigKey);
        try
        {
            var config = await manager.WaitForConfigAsync(ct);
            if (string.Equals(config.BackendType, BackendTypes.Vxlan, StringComparison.OrdinalIgnoreCase))
            {
                // Peers program their FDB from the lease's VtepMAC; a vxlan lease without it would break them.
                stderr.WriteLine("error: a vxlan lease carries the MAC address of the host's flannel.<VNI> device, which only the running daemon creates; start the daemon instead");
                return 1;
            }
            if (!BackendTypes.IsKnown(config.BackendType))
            {
                stderr.WriteLine($"error: {BackendTypes.UnknownTypeMessage(config.BackendType)}");
                return 1;
            }
            string type = config.BackendType.ToLowerInvariant();
            var attrs = new LeaseAttrs(ip, BackendType: type == BackendTypes.Udp ? null : type);
            var lease = await manager.AcquireAsync(config, attrs, SubnetFile.ReadPrevious(subnetFile.Value), ct);
            stdout.WriteLine($"subnet     {lease.Key.Subnet}");
            stdout.WriteLine($"key        {options.SubnetKeyPath(lease.Key)}");
            stdout.WriteLine($"public-ip  {lease.Attrs.PublicIP}");
            stdout.WriteLine($"backend    {type}");
            stdout.WriteLine($"expires    {(lease.Expiration ?? DateTimeOffset.UtcNow).ToString("u", CultureInfo.InvariantCulture)}");
            stdout.WriteLine($"value      {lease.Attrs.ToJson()}");
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            stderr.WriteLine("interrupted");
            return 130;
        }
        catch (LeaseAcquisitionException e)
        {
            stderr.WriteLine($"error: failed to acquire lease: {e.Message}");
            return 1;
        }
        catch (EtcdException e)
        {
            stderr.WriteLine($"error: {e.Describe($"etcd at {string.Join(", ", options.Endpoints)}")}");
            return 1;
        }
    }
}
