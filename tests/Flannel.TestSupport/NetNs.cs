using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Tmds.Linux;

namespace Flannel.TestSupport;

/// <summary>
/// A network namespace made for one test (<c>ip netns add fcs-&lt;run&gt;-&lt;n&gt;</c>), deleted on Dispose. Everything a test
/// changes in the network happens in here, never in the host's namespace.
/// </summary>
/// <remarks>
/// Creating one needs root; when it fails the test fails (there is no skip). Names carry a random id per test run, so
/// parallel tests and parallel runs never collide, and leftovers of a crashed run are recognisable (<c>fcs-</c>).
/// Namespaces still alive when the process exits are deleted then, as a last resort.
/// </remarks>
public sealed class NetNs : IDisposable
{
    private const string NamePrefix = "fcs-";
    private static readonly string RunId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private static readonly ConcurrentDictionary<string, byte> Live = new();
    private static int s_created;
    private int _disposed;

    static NetNs()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var name in Live.Keys)
            {
                Command.TryRun("ip", "netns", "del", name);
            }
        };
    }

    private NetNs(string name) => Name = name;

    public string Name { get; }

    /// <summary>The namespace's handle file, as <c>ip netns add</c> bind-mounts it.</summary>
    public string HandlePath => $"/var/run/netns/{Name}";

    /// <exception cref="InvalidOperationException"><c>ip netns add</c> failed (not root?).</exception>
    public static NetNs Create()
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{NamePrefix}{RunId}-{Interlocked.Increment(ref s_created)}");
        Live[name] = 0;
        var result = Command.TryRun("ip", "netns", "add", name);
        if (result.ExitCode != 0)
        {
            Live.TryRemove(name, out _);
            throw new InvalidOperationException(
                $"cannot create network namespace {name} (tests that change the network need root): {result.Stderr.Trim()}");
        }
        return new NetNs(name);
    }

    /// <summary><c>ip -n NAME args...</c>; returns its output.</summary>
    public string Ip(params string[] args) => Command.Run("ip", ["-n", Name, .. args]);

    /// <summary>Runs a program inside the namespace (<c>ip netns exec NAME command...</c>); returns its output.</summary>
    public string Exec(params string[] command) => Command.Run("ip", ["netns", "exec", Name, .. command]);

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread that has entered the namespace (setns CLONE_NEWNET) and ends
    /// with it, so no pooled thread is ever left in a test namespace. A netlink socket created in there stays bound
    /// to this namespace for its life, whichever thread uses it afterwards.
    /// </summary>
    public T Run<T>(Func<T> action)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return RunIn(Name, action);
    }

    /// <summary>As <see cref="Run{T}(Func{T})"/>, for a namespace made by name elsewhere (a <c>Testbed</c> host).</summary>
    public static T RunIn<T>(string name, Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(name);
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = $"netns {name}",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    public void Run(Action action) => Run(() =>
    {
        action();
        return 0;
    });

    /// <summary>Deletes the namespace (its sockets keep it alive, nameless, until they close).</summary>
    /// <exception cref="InvalidOperationException"><c>ip netns del</c> failed twice: the namespace leaked.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        var result = Command.TryRun("ip", "netns", "del", Name);
        if (result.ExitCode != 0)
        {
            Thread.Sleep(100);
            result = Command.TryRun("ip", "netns", "del", Name);
        }
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"network namespace {Name} leaked: {result.Stderr.Trim()}");
        }
        Live.TryRemove(Name, out _);
    }

    public override string ToString() => Name;

    /// <summary>Moves the calling thread into the namespace and proves it did, by comparing namespace inodes.</summary>
    private static unsafe void Enter(string name)
    {
        string handlePath = $"/var/run/netns/{name}";
        using var handle = File.OpenHandle(handlePath, FileMode.Open, FileAccess.Read);
        int fd = (int)handle.DangerousGetHandle();
        if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0)
        {
            throw new InvalidOperationException($"setns({handlePath}): {Marshal.GetPInvokeErrorMessage(LibC.errno)}");
        }
        stat status;
        if (LibC.fstat(fd, &status) != 0)
        {
            throw new InvalidOperationException($"fstat({handlePath}): {Marshal.GetPInvokeErrorMessage(LibC.errno)}");
        }
        string expected = string.Create(CultureInfo.InvariantCulture, $"net:[{status.st_ino}]");
        string? actual = new FileInfo("/proc/thread-self/ns/net").LinkTarget;
        if (actual != expected)
        {
            throw new InvalidOperationException($"after setns this thread is in {actual}, not {name} ({expected})");
        }
    }
}
