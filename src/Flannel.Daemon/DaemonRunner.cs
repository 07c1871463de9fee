using System.Diagnostics;
using Flannel.Backends.Interfaces;
using Flannel.Daemon.Cli;
using Flannel.Daemon.Health;
using Flannel.Daemon.DBus;
using Flannel.Daemon.Logging;
using Flannel.Subnet.Etcd;
using Flannel.Subnet.Leases;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace Flannel.Daemon;

/// <summary>Runs the daemon: flags, logging, the generic host with systemd integration, and the exit status.</summary>
internal static class DaemonRunner
{
    public static async Task<int> RunAsync(string[] args, Stopwatch sinceStart)
    {
        var flags = new DaemonFlags();
        try
        {
            flags.Set.Parse(args);
        }
        catch (FlagException e)
        {
            if (e.IsHelp)
            {
                Console.Out.Write(HelpText.Render(flags));
                return 0;
            }
            // One line, not the usage after it: in `journalctl -u flanneld` the flag would scroll away above 130 lines.
            Console.Error.WriteLine($"flanneld: {e.Message}; see flanneld --help");
            return 2; // flanneld exits 0 here; a typo in a unit should not look like success
        }
        if (flags.Version.Value)
        {
            Console.Error.WriteLine(Program.Version); // flanneld prints its version to stderr
            return 0;
        }
        if (flags.Set.Positional.Count > 0)
        {
            Console.Error.WriteLine($"unexpected argument: {flags.Set.Positional[0]} (commands are check-config, lease, status and migrate-v2; see --help)");
            return 2;
        }
        if (flags.Validate() is { } invalid)
        {
            Console.Error.WriteLine(invalid);
            return 1;
        }

        var settings = DaemonSettings.From(flags);
        var serilog = LogSetup.CreateDaemonLogger(LogSetup.ParseLevel(flags.LogLevel.Value, flags.Verbosity.Value), LogSetup.UnderSystemd());
        try
        {
            using var host = Build(settings, serilog, sinceStart);
            var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("flanneld");
            DaemonLog.Starting(log, Program.Version, string.Join(',', settings.Etcd.Endpoints), settings.Etcd.Prefix);
            // Taken now: RunAsync disposes the host (and its service provider) when it ends.
            var network = host.Services.GetServices<IHostedService>().OfType<NetworkService>().First();
            try
            {
                await host.RunAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM while still starting (waiting for etcd or its config): a clean stop, not a crash.
                DaemonLog.StoppedWhileStarting(log, network.StartPhase);
                return 0;
            }
            catch (Exception e)
            {
                var cause = e is AggregateException { InnerException: { } inner } ? inner : e;
                DaemonLog.StartFailed(log, cause.Message);
                DaemonLog.StartFailedDetail(log, cause);
                return 1;
            }
            return Environment.ExitCode;
        }
        finally
        {
            await Log.CloseAndFlushAsync().ConfigureAwait(false);
            (serilog as IDisposable)?.Dispose();
        }
    }

    private static IHost Build(DaemonSettings settings, Serilog.ILogger serilog, Stopwatch sinceStart)
    {
        // No args to the builder: its command-line provider breaks on Go-style flags; DisableDefaults also keeps
        // appsettings files and the default console logger out.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(serilog, dispose: false);
        builder.Services.AddSystemd(); // READY=1 after every StartAsync returned; STOPPING=1 on SIGTERM
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            o.ServicesStartConcurrently = false;
            o.ServicesStopConcurrently = true;
        });

        var s = builder.Services;
        s.AddSingleton(settings);
        s.AddSingleton(sinceStart);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(sp => new LoopHealthRegistry(sp.GetRequiredService<TimeProvider>(), "lease-renewal", "peer-watch", "own-lease-watch", "backend", EtcdProbe.Name));
        s.AddSingleton(_ => new EtcdConnection(settings.Etcd));
        s.AddSingleton<ISubnetRegistry>(sp => new EtcdSubnetRegistry(sp.GetRequiredService<EtcdConnection>(), sp.GetRequiredService<ILogger<EtcdSubnetRegistry>>(),
            sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton(sp => new LeaseManager(
            sp.GetRequiredService<ISubnetRegistry>(),
            new LeaseManagerOptions
            {
                RenewMargin = settings.RenewMargin, Health = sp.GetRequiredService<LoopHealthRegistry>(), TimeProvider = sp.GetRequiredService<TimeProvider>(),
            },
            sp.GetRequiredService<ILogger<LeaseManager>>(),
            settings.Etcd.ConfigKey));
        s.AddSingleton(sp => new DBusIntegrator(settings.DBus, sp.GetRequiredService<ILogger<DBusIntegrator>>()));
        s.AddSingleton<IInterfaceSource>(_ => new SystemInterfaceSource());
        if (settings.HealthzPort > 0)
        {
            // Before the network service: flanneld serves /healthz while it waits for the config.
            s.AddHostedService(sp => new HealthServer(sp.GetRequiredService<LoopHealthRegistry>(), sp.GetRequiredService<ILogger<HealthServer>>(),
                settings.HealthzIp, settings.HealthzPort));
        }
        s.AddHostedService(sp => new EtcdProbe(sp.GetRequiredService<ISubnetRegistry>(), sp.GetRequiredService<LoopHealthRegistry>()));
        s.AddHostedService(sp => new NetworkService(settings, sp.GetRequiredService<LeaseManager>(), sp.GetRequiredService<IInterfaceSource>(),
            sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<LoopHealthRegistry>(),
            sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<Stopwatch>(), sp.GetRequiredService<DBusIntegrator>()));
        return builder.Build();
    }
}
