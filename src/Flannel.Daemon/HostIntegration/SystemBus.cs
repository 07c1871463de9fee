using Tmds.DBus.Protocol;

namespace Flannel.Daemon.HostIntegration;

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
