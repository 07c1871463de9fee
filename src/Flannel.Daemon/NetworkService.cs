using System.Diagnostics;
using Flannel.Backends;
using Flannel.Backends.Interfaces;
using Flannel.Daemon.EnvFiles;
using Flannel.Daemon.Health;
using Flannel.Daemon.DBus;
using Flannel.Daemon.Rules;
using Flannel.Subnet;
using Flannel.Subnet.Config;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flannel.Daemon;

/// <summary>
/// The daemon's main service, in flanneld's order (compat §10): config, interface, backend, lease, device setup,
/// subnet.env (and docker options), all inside <see cref="StartAsync"/> so systemd hears READY=1 only after the files
/// exist; then the backend, the renewal and the peer watch run until shutdown.
/// </summary>
internal sealed class NetworkService : IHostedService, IAsyncDisposable
{
    private readonly DaemonSettings _settings;
    private readonly LeaseManager _leases;
    private readonly IInterfaceSource _host;
    private readonly ILoggerFactory _logs;
    private readonly LoopHealthRegistry _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<NetworkService> _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Stopwatch _sinceStart;
    private volatile string _startPhase = "starting";
    private readonly DBusIntegrator _hostIntegration;
    private IBackendNetwork? _network;
    private NetworkConfig? _config;
    private Task _running = Task.CompletedTask;
    // One per family: IPv4's, and IPv6's (ip6tables / ip6 flannel-ipv6) on a dual-stack network.
    private IReadOnlyList<TrafficRules> _rules = [];
    private LeaseAttrs? _published;
    private ExternalInterface? _iface;
    private InterfaceOptions _interfaceOptions = new();

    public NetworkService(DaemonSettings settings, LeaseManager leases, IInterfaceSource host, ILoggerFactory logs,
        LoopHealthRegistry health, IHostApplicationLifetime lifetime, Stopwatch sinceStart, DBusIntegrator hostIntegration)
    {
        _hostIntegration = hostIntegration;
        _settings = settings;
        _leases = leases;
        _host = host;
        _logs = logs;
        _health = health;
        _lifetime = lifetime;
        _log = logs.CreateLogger<NetworkService>();
        _sinceStart = sinceStart;
    }

    /// <summary>What the start is doing, for the line logged when a stop request ends it early.</summary>
    public string StartPhase => _startPhase;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _startPhase = $"waiting for the network config at {_settings.Etcd.ConfigKey} in etcd";
        // Connecting to the system bus overlaps the wait for etcd; nothing below waits for it.
        _hostIntegration.Start();
        _config = await _leases.WaitForConfigAsync(cancellationToken).ConfigureAwait(false);
        DaemonLog.ConfigChosen(_log, _config.EnableIPv4 ? _config.Network.ToString() : "-",
            BackendTypes.Normalize(_config.BackendType) ?? _config.BackendType, _config.BackendChoice);
        foreach (var u in BackendTypes.UnknownOptions(_config.BackendType, _config.BackendJson))
        {
            DaemonLog.BackendOptionUnknown(_log, u.Describe());
        }
        var command = new ProgramRunner();
        // The previous run's network and subnet: their rules are retired when the lease differs (flanneld reads them
        // from the subnet file in the same way).
        var previous = SubnetFile.ReadPrevious(_settings.SubnetFile);
        var config = _config;
        _rules = [.. config.Families.Select(family => new TrafficRules(
            config.EnableNFTables ? new NftablesFilter(command, family) : new IptablesFilter(command, family),
            _settings.IptablesResync, _settings.IpMasq, _settings.IptablesForwardRules, _settings.IpMasqRandomFully, _log, _health,
            family == IpFamily.Ip6 ? previous.Ipv6Network : previous.Network,
            family == IpFamily.Ip6 ? previous.Ipv6Subnet : previous.Subnet))];
        // Packet filter work that needs no lease runs while the backend and the lease are set up (each iptables run
        // costs milliseconds, its nf_tables commit 8-15 ms here).
        var rulesRead = Task.WhenAll(config.Families.Select((family, i) => _rules[i].PrepareAsync(config.NetworkOf(family))));

        // With EnableIPv6 the interface's IPv6 address is chosen too (and kept by the monitor's re-selections).
        _interfaceOptions = _settings.Interface with { Ipv6 = _config.EnableIPv6 };
        var iface = ExternalInterfaceSelector.Select(_interfaceOptions, _host);
        _iface = iface;
        DaemonLog.InterfaceChosen(_log, iface.Name, iface.Index, iface.Mtu, iface.Address.ToString(), iface.PublicIP.ToString(), iface.Reason);
        if (iface.Address6 is { } address6)
        {
            DaemonLog.InterfaceIpv6Chosen(_log, iface.Name, address6.ToString(), iface.PublicIPv6?.ToString() ?? "");
        }

        var backend = BackendTypes.Create(_config.BackendType, new BackendContext(iface, _config, _logs)
        {
            Health = _health,
            VxlanChecksumOffload = _settings.VxlanChecksumOffload,
            UdpSourceCheck = _settings.UdpSourceCheck,
        });
        _startPhase = $"setting up the {backend.Type} backend";
        _network = await backend.RegisterNetworkAsync(cancellationToken).ConfigureAwait(false);
        DaemonLog.BackendRegistered(_log, backend.Type, _network.Mtu, _network.LeaseAttrs.ToJson());
        _hostIntegration.DeviceReady(iface.Name, BackendDBusNeeds.For(_config, _network));

        _published = _network.LeaseAttrs;
        _startPhase = "acquiring a lease in etcd";
        var lease = await _leases.AcquireAsync(_config, _published, previous, cancellationToken)
            .ConfigureAwait(false);
        await _network.ConfigureAsync(lease, cancellationToken).ConfigureAwait(false);
        var ct = _stopping.Token;
        // The data path first: peers are listed and programmed while the rules and the env files are written. After a
        // restart the udp backend forwards nothing until its peers are known, and the iptables-restore (an nf_tables
        // commit) and the env files' fsync can wait on a busy machine.
        var peerWatch = Supervise("peer watch", _leases.WatchPeersAsync(_network.HandlePeersAsync, ct));
        try
        {
            // Masquerade and forward rules before READY: dockerd starts after us and sets FORWARD to DROP.
            await rulesRead.ConfigureAwait(false);
            ApplyRules(lease);
            WriteEnvFiles(lease);
        }
        catch
        {
            await _stopping.CancelAsync().ConfigureAwait(false); // the start fails: the peer watch ends with it
            throw;
        }
        _startPhase = "started";
        _health.MarkReady();
        DaemonLog.Ready(_log, lease.Key.ToString(), backend.Type, _sinceStart.ElapsedMilliseconds);

        _running = Task.WhenAll(
            Supervise("backend", _network.RunAsync(ct)),
            Supervise("lease renewal", _leases.RunAsync(ct)),
            peerWatch,
            Supervise("lease follower", FollowReacquiredAsync(ct)),
            Task.WhenAll(_rules.Select(r => Supervise(r.LoopName, r.RunAsync(ct)))),
            Supervise("external interface monitor",
                new ExternalInterfaceMonitor(_interfaceOptions, _host, TimeProvider.System, _log).RunAsync(iface, OnInterfaceChangedAsync, ct)),
            Supervise("config watch", _leases.WatchConfigAsync(_config, ct)));
    }

    // A loop that ends with an error is fatal: the daemon stops with exit status 1 and systemd restarts it
    // (Restart=on-failure), which is better than running with a dead loop.
    private async Task Supervise(string name, Task loop)
    {
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            DaemonLog.LoopFailed(_log, name, e);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
    }

    // The backend rebuilds on the interface first (traffic comes back), then the lease follows a new PublicIP; a put
    // that fails (etcd down) throws, and the monitor tries the whole change again later (the rebuild is idempotent).
    private async Task OnInterfaceChangedAsync(ExternalInterface iface, CancellationToken ct)
    {
        if (_iface is { } old && old.Address != iface.Address)
        {
            // Our connections to etcd went out from the old address, which is gone: nothing comes back on them.
            int dropped = EtcdConnection.DropConnectionsFrom(System.Net.IPAddress.Parse(old.Address.ToString()));
            DaemonLog.EtcdConnectionsDropped(_log, dropped, old.Address.ToString());
        }
        _iface = iface;
        await _network!.ExternalInterfaceChangedAsync(iface, ct).ConfigureAwait(false);
        var attrs = _network.LeaseAttrs;
        if (attrs != _published)
        {
            await _leases.UpdateAttrsAsync(attrs, ct).ConfigureAwait(false);
            _published = attrs;
        }
    }

    private async Task FollowReacquiredAsync(CancellationToken ct)
    {
        await foreach (var lease in _leases.Reacquired.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await _network!.ConfigureAsync(lease, ct).ConfigureAwait(false);
            ApplyRules(lease);
            WriteEnvFiles(lease);
        }
    }

    private void ApplyRules(Lease lease)
    {
        foreach (var (rules, family) in _rules.Zip(_config!.Families))
        {
            if (lease.Key.SubnetOf(family) is { } subnet)
            {
                rules.Apply(_config.NetworkOf(family), subnet);
            }
        }
    }

    private void WriteEnvFiles(Lease lease)
    {
        var previous = SubnetFile.ReadPrevious(_settings.SubnetFile);
        var env = new SubnetEnv(
            _config!.EnableIPv4 ? _config.Network : null,
            lease.Key.Subnet,
            _config.EnableIPv6 ? _config.IPv6Network : null,
            lease.Key.Ipv6Subnet,
            _network!.Mtu,
            _settings.IpMasq);
        AtomicFile.Write(_settings.SubnetFile, env.Format());
        DaemonLog.WroteSubnetFile(_log, _settings.SubnetFile, lease.Key.Subnet.ToString(), _network.Mtu);
        if (_settings.DockerOptsFile is { } dockerOpts)
        {
            AtomicFile.Write(dockerOpts, DockerOptions.Format(env));
            DaemonLog.WroteDockerOpts(_log, dockerOpts);
        }
        // The previous file is what dockerd was started with: a different subnet means a stale --bip (a restart with
        // a lost lease, or a lease re-acquired at runtime).
        if (previous.Subnet is { } old && old != lease.Key.Subnet)
        {
            _hostIntegration.SubnetChanged(old, lease.Key.Subnet);
        }
        CheckDockerDaemonJson(env);
    }

    // dockerd gets --bip/--mtu/--ip-masq from the options we (or mk-docker-opts.sh) write; the same key in daemon.json
    // stops dockerd from starting at all, which operators otherwise find out from docker's journal.
    private void CheckDockerDaemonJson(SubnetEnv env)
    {
        if (_settings.DockerDaemonJson is not { Length: > 0 } path)
        {
            return;
        }
        try
        {
            var clashes = DockerDaemonJson.Check(path, env);
            if (clashes.Count > 0)
            {
                DaemonLog.DockerDaemonJsonClash(_log, DockerDaemonJson.Describe(path, clashes));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            DaemonLog.DockerDaemonJsonUnreadable(_log, path, e.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        DaemonLog.Stopping(_log, _leases.Current?.Key.ToString() ?? "(none)");
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _hostIntegration.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_network is not null)
        {
            await _network.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }
}
