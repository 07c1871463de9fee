using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using dotnet_etcd;
using Etcdserverpb;

namespace Flannel.TestSupport;

/// <summary>
/// A real etcd (Debian's etcd-server) on free loopback ports with a temporary data dir, stopped by pid.
/// Fails loudly when the binary is missing: scripts/test.sh installs it.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly int _peerPort;
    private Process? _process;

    private EtcdServer(string dataDir, int clientPort, int peerPort)
    {
        _dataDir = dataDir;
        ClientPort = clientPort;
        _peerPort = peerPort;
    }

    public int ClientPort { get; }

    public string Endpoint => $"http://127.0.0.1:{ClientPort}";

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public static string Binary
    {
        get
        {
            foreach (var path in new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" })
            {
                if (File.Exists(path))
                {
                    return path;
                }
            }
            throw new InvalidOperationException("etcd is not installed (Debian package etcd-server); scripts/test.sh installs it");
        }
    }

    /// <param name="extraArgs">More etcd flags, e.g. <c>--enable-v2</c>.</param>
    private string[] _extraArgs = [];

    public static async Task<EtcdServer> StartAsync(params string[] extraArgs)
    {
        var dir = Directory.CreateTempSubdirectory("flannel-etcd-").FullName;
        var server = new EtcdServer(dir, FreePort(), FreePort()) { _extraArgs = extraArgs };
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Starts etcd again on the same ports and data (after <see cref="StopAsync"/>).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        string client = $"http://127.0.0.1:{ClientPort}", peer = $"http://127.0.0.1:{_peerPort}";
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--name", "test", "--data-dir", Path.Combine(_dataDir, "data"),
                     "--listen-client-urls", client, "--advertise-client-urls", client,
                     "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", $"test={peer}", "--log-level", "warn", "--logger", "zap",
                 }.Concat(_extraArgs))
        {
            psi.ArgumentList.Add(a);
        }
        var logPath = Path.Combine(_dataDir, "etcd.log");
        var p = Process.Start(psi) ?? throw new InvalidOperationException("etcd did not start");
        _process = p;
        _ = PumpAsync(p.StandardOutput, logPath);
        _ = PumpAsync(p.StandardError, logPath);

        using var probe = new EtcdClient(client);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (p.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with {p.ExitCode}: {ReadLog(logPath)}");
            }
            try
            {
                await probe.GetAsync("/health-probe", deadline: DateTime.UtcNow.AddSeconds(1));
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static readonly object LogLock = new();

    private static async Task PumpAsync(StreamReader reader, string path)
    {
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            lock (LogLock)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    private static string ReadLog(string path)
    {
        lock (LogLock)
        {
            return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
        }
    }

    /// <summary>Kills etcd (SIGKILL, by pid) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            if (!p.HasExited)
            {
                p.Kill();
            }
            await p.WaitForExitAsync();
            p.Dispose();
            _process = null;
        }
    }

    public EtcdClient NewClient() => new(Endpoint);

    /// <summary>Compacts the history up to the current revision, so older revisions can no longer be watched.</summary>
    public async Task<long> CompactAsync()
    {
        using var c = NewClient();
        var rev = (await c.GetAsync("/compact-probe")).Header.Revision;
        await c.GetConnection().KVClient.CompactAsync(new CompactionRequest { Revision = rev, Physical = true });
        return rev;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
