using Flannel.Backends;
using Flannel.Backends.Netlink;
using Flannel.Backends.Udp;
using Flannel.Backends.Vxlan;
using Flannel.Daemon.Cli;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Ip;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// <c>flanneld status [--json] [--subnet-file PATH] [--public-ip IP] [etcd flags]</c>: the config and every lease from
/// etcd next to what this host's kernel holds, and the drift between them. Only reads.
/// </summary>
internal static class StatusCommand
{
    public const int NoDrift = 0, DriftFound = 1, BadFlags = 2, EtcdOrConfigProblem = 3, KernelUnreadable = 4;

    public const string Usage =
        "usage: flanneld status [--json] [--subnet-file PATH] [--public-ip IP] [--timeout SECONDS] [--etcd-endpoints URLS] [--etcd-prefix PREFIX] [--etcd-* TLS/auth flags]";

    private const string ExitCodes =
        "exit status: 0 no drift, 1 drift found, 2 bad flags, 3 etcd unreachable or config missing/invalid, 4 kernel state unreadable";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, ILoggerFactory logs, CancellationToken ct)
    {
        var flags = new FlagSet();
        var etcdFlags = new EtcdFlags(flags);
        var subnetFile = flags.Text("subnet-file", SubnetFile.DefaultPath, "subnet file of the running daemon: its FLANNEL_SUBNET is this host's lease");
        var publicIp = flags.Text("public-ip", "", "this host's PublicIP, to recognise its lease without a subnet file");
        var json = flags.Switch("json", false, "print the report as JSON");
        var timeout = flags.Number("timeout", 5, "seconds to wait for etcd before giving up (exit 3)");
        var daemonJson = flags.Text("docker-daemon-json", EnvFiles.DockerDaemonJson.DefaultPath,
            "dockerd's config, checked for bip, mtu or ip-masq that clash with the docker options (empty: no check)");
        if (CommandFlags.Parse(flags, args, stderr, Usage, ExitCodes) is { } exit)
        {
            return exit;
        }
        if (timeout.Value <= 0 || (publicIp.Value.Length > 0 && !Ip4Address.TryParse(publicIp.Value, out _)))
        {
            stderr.WriteLine(timeout.Value <= 0 ? "error: --timeout must be a positive number of seconds"
                : $"error: --public-ip is not an IPv4 address: {publicIp.Value}");
            stderr.WriteLine(Usage);
            return BadFlags;
        }

        var options = etcdFlags.ToOptions();
        if (options.Endpoints.Count == 0)
        {
            stderr.WriteLine("error: --etcd-endpoints names no endpoint");
            stderr.WriteLine(Usage);
            return BadFlags;
        }
        var etcd = await ReadEtcdAsync(options, timeout.Value, logs, stderr, ct).ConfigureAwait(false);
        if (etcd.ExitCode is { } failed)
        {
            return failed;
        }
        if (ParseConfig(etcd.Config!, options, stderr) is not { } config)
        {
            return EtcdOrConfigProblem;
        }
        var leases = etcd.Leases;

        var own = FindOwnHost(subnetFile.Value, publicIp.Value);
        KernelSnapshot kernel;
        KernelSnapshot? kernel6 = null;
        try
        {
            kernel = ReadKernel(config, own, leases, IpFamily.Ip4);
            if (config.EnableIPv6)
            {
                kernel6 = ReadKernel(config, own, leases, IpFamily.Ip6);
            }
        }
        catch (NetlinkException e)
        {
            stderr.WriteLine($"error: reading the kernel's routes, neighbours and FDB: {e.Message}");
            return KernelUnreadable;
        }
        var report = DriftAnalyzer.Analyze(new StatusInputs(config, options.ConfigKey, leases, own, kernel, kernel6)) with
        {
            Warnings = DockerWarnings(daemonJson.Value, subnetFile.Value),
        };
        if (json.Value)
        {
            stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, StatusJsonContext.Default.StatusReport));
        }
        else
        {
            stdout.Write(StatusTextWriter.Render(report));
        }
        return report.HasDrift ? DriftFound : NoDrift;
    }

    /// <summary>daemon.json keys dockerd would refuse next to the docker options made from the running daemon's subnet file.</summary>
    private static List<string> DockerWarnings(string daemonJson, string subnetFile)
    {
        if (daemonJson.Length == 0)
        {
            return [];
        }
        try
        {
            var clashes = EnvFiles.DockerDaemonJson.Check(daemonJson, SubnetEnv.TryRead(subnetFile));
            return clashes.Count == 0 ? [] : [EnvFiles.DockerDaemonJson.Describe(daemonJson, clashes)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return [$"cannot check {daemonJson}: {e.Message}"];
        }
    }

    private sealed record EtcdRead(int? ExitCode, string? Config, IReadOnlyList<LeaseWithTtl> Leases);

    /// <summary>The config and leases, or the exit code (with the message written) when etcd cannot give them.</summary>
    private static async Task<EtcdRead> ReadEtcdAsync(EtcdOptions options, int timeoutSeconds, ILoggerFactory logs, TextWriter stderr, CancellationToken ct)
    {
        string where = $"etcd at {string.Join(',', options.Endpoints)}";
        EtcdConnection etcd;
        try
        {
            etcd = new EtcdConnection(options);
        }
        catch (Exception e) when (IsUnreadableTlsFile(e))
        {
            stderr.WriteLine($"error: {where}: {e.Message}");
            return new EtcdRead(EtcdOrConfigProblem, null, []);
        }
        using (etcd)
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            // gRPC keeps retrying an endpoint that does not answer; a status check must not hang with it.
            deadline.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
            var registry = new EtcdSubnetRegistry(etcd, logs.CreateLogger<EtcdSubnetRegistry>());
            try
            {
                var (config, leases) = await EtcdStatusReader.ReadAsync(registry, deadline.Token).ConfigureAwait(false);
                if (config is null)
                {
                    stderr.WriteLine($"error: no network config in etcd at {options.ConfigKey} ({where})");
                    return new EtcdRead(EtcdOrConfigProblem, null, []);
                }
                return new EtcdRead(null, config, leases);
            }
            catch (Exception e) when (e is OperationCanceledException or EtcdException { Code: "Cancelled" or "DeadlineExceeded" })
            {
                if (ct.IsCancellationRequested)
                {
                    stderr.WriteLine("interrupted");
                    return new EtcdRead(130, null, []);
                }
                stderr.WriteLine($"error: {where}: no answer within {timeoutSeconds} s (is etcd running and reachable?)");
                return new EtcdRead(EtcdOrConfigProblem, null, []);
            }
            catch (Exception e) when (IsUnreadableTlsFile(e))
            {
                stderr.WriteLine($"error: {where}: {e.Message}");
                return new EtcdRead(EtcdOrConfigProblem, null, []);
            }
            catch (EtcdException e)
            {
                stderr.WriteLine($"error: {e.Describe(where)}");
                return new EtcdRead(EtcdOrConfigProblem, null, []);
            }
        }
    }

    /// <summary>The validated config, or null (with the message written) when the daemon would refuse it.</summary>
    private static NetworkConfig? ParseConfig(string json, EtcdOptions options, TextWriter stderr)
    {
        try
        {
            var config = NetworkConfigParser.Parse(json);
            if (!BackendTypes.IsKnown(config.BackendType))
            {
                throw new NetworkConfigException(BackendTypes.UnknownTypeMessage(config.BackendType));
            }
            BackendTypes.Validate(config);
            return config;
        }
        catch (Exception e) when (e is NetworkConfigException or BackendException)
        {
            stderr.WriteLine($"error: invalid network config at {options.ConfigKey}: {e.Message}");
            return null;
        }
    }

    // The TLS key, certificate or CA file cannot be read (when the client is built or at the first call): etcd cannot
    // be reached with them.
    private static bool IsUnreadableTlsFile(Exception e) =>
        e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException;

    private static OwnHost FindOwnHost(string subnetFile, string publicIp)
    {
        var subnet = SubnetFile.ReadPrevious(subnetFile).Subnet;
        Ip4Address? ip = Ip4Address.TryParse(publicIp, out var parsed) ? parsed : null;
        var sources = new List<string>();
        if (subnet is not null)
        {
            sources.Add($"FLANNEL_SUBNET of {subnetFile}");
        }
        if (ip is not null)
        {
            sources.Add($"--public-ip {ip}");
        }
        return new OwnHost(subnet, ip, string.Join(" and ", sources));
    }

    private static KernelSnapshot ReadKernel(NetworkConfig config, OwnHost own, IReadOnlyList<LeaseWithTtl> leases, IpFamily family)
    {
        var ownLease = leases.Select(l => l.Lease).FirstOrDefault(own.Owns);
        IpAddress? ownPublicIp = family == IpFamily.Ip6 ? ownLease?.Attrs.PublicIPv6 : ownLease?.Attrs.PublicIP ?? own.PublicIp;
        switch (config.BackendType.ToLowerInvariant())
        {
            case BackendTypes.Vxlan:
                var options = VxlanOptions.Parse(config.BackendJson);
                var direct = options.DirectRouting
                    ? leases.Where(l => !own.Owns(l.Lease)).Select(l => l.Lease.Attrs.PublicIPOf(family)).OfType<IpAddress>()
                    : [];
                return KernelReader.Read(VxlanDesiredState.DeviceName(options, family), vxlan: true, direct, ownPublicIp, family);
            case BackendTypes.Udp:
                return KernelReader.Read(UdpDesiredState.DeviceName, vxlan: false, [], ownPublicIp, family);
            default:
                return KernelReader.Read(null, vxlan: false, [], ownPublicIp, family);
        }
    }
}
