using Tmds.DBus.Protocol;

namespace Flannel.Daemon.DBus;

/// <summary>Connecting to the system bus and the few bus-daemon calls the clients share.</summary>
internal static class SystemBus
{
    private const string BusName = "org.freedesktop.DBus";
    private const string BusPath = "/org/freedesktop/DBus";

    /// <summary>
    /// Connects with a deadline: a bus socket that accepts but never answers must not hold the daemon up.
    /// </summary>
    /// <exception cref="Exception">Any failure to connect (no socket, refused, timed out, bad address).</exception>
    public static async Task<DBusConnection> ConnectAsync(string address, TimeSpan timeout, CancellationToken ct)
    {
        // Most hosts without a bus simply lack the socket file: say so without setting up a connection, whose
        // threads and buffers cost the daemon ~2 MiB of RSS for nothing (bench/startup.sh).
        if (MissingUnixSocket(address) is { } missing)
        {
            throw new IOException($"no socket at {missing}");
        }
        var connection = new DBusConnection(address);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(timeout, ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The socket path of a plain <c>unix:path=P</c> address when no file exists there, else null.</summary>
    internal static string? MissingUnixSocket(string address)
    {
        const string Prefix = "unix:path=";
        if (!address.StartsWith(Prefix, StringComparison.Ordinal) || address.Contains(';', StringComparison.Ordinal))
        {
            return null;
        }
        string path = address[Prefix.Length..];
        int comma = path.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            path = path[..comma];
        }
        return File.Exists(path) ? null : path;
    }

    /// <summary>True when some connection owns the well-known name (the service is running).</summary>
    public static Task<bool> NameHasOwnerAsync(DBusConnection connection, string name)
    {
        using var w = connection.GetMessageWriter();
        w.WriteMethodCallHeader(BusName, BusPath, BusName, "NameHasOwner", signature: "s");
        w.WriteString(name);
        return connection.CallMethodAsync(w.CreateMessage(), static (Message m, object? _) => m.GetBodyReader().ReadBool());
    }

    /// <summary>What a failed call says in a log line: the D-Bus error name when there is one.</summary>
    public static string Describe(Exception e) => e switch
    {
        DBusErrorReplyException reply => $"{reply.ErrorName}: {reply.ErrorMessage}",
        TimeoutException => "no answer in time",
        _ => e.Message,
    };
}
