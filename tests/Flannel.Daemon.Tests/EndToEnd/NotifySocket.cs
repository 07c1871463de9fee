using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// Plays systemd's side of sd_notify: a unix datagram socket whose path goes into NOTIFY_SOCKET. Each message is
/// recorded with whether a given file existed when it arrived (READY=1 must come after subnet.env exists).
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    public NotifySocket(string path, string watchedFile)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _receiving = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (!_stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                bool exists = File.Exists(watchedFile);
                foreach (var line in Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Messages.Enqueue((line, exists));
                }
            }
        });
    }

    public string Path { get; }

    public ConcurrentQueue<(string Message, bool FileExisted)> Messages { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
        File.Delete(Path);
    }
}
