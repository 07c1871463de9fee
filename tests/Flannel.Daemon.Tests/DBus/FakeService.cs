using System.Collections.Concurrent;
using Tmds.DBus.Protocol;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>
/// A stand-in for a host service on the private bus: owns the service's well-known name, implements the methods the
/// daemon calls with the real service's signatures and errors, and records every call as "member arg arg ...".
/// </summary>
internal abstract class FakeService : IPathMethodHandler, IAsyncDisposable
{
    private DBusConnection? _connection;

    protected FakeService(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public virtual bool HandlesChildPaths => false;

    public ConcurrentQueue<string> Calls { get; } = new();

    protected abstract string ServiceName { get; }

    public async Task StartAsync(string busAddress)
    {
        _connection = new DBusConnection(busAddress);
        await _connection.ConnectAsync();
        _connection.AddMethodHandler(this);
        await _connection.RequestNameAsync(ServiceName, RequestNameOptions.None);
    }

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        if (context.IsDBusIntrospectRequest)
        {
            return ValueTask.CompletedTask; // the context answers "unknown method"; the daemon never introspects
        }
        var request = context.Request;
        var reader = request.GetBodyReader();
        Handle(context, request.InterfaceAsString ?? "", request.MemberAsString ?? "", request.PathAsString ?? "", ref reader);
        return ValueTask.CompletedTask;
    }

    /// <summary>Answers one call; an unanswered call gets D-Bus's UnknownMethod error.</summary>
    protected abstract void Handle(MethodContext context, string iface, string member, string path, ref Reader body);

    protected void Record(string call) => Calls.Enqueue(call);

    protected static void ReplyString(MethodContext context, string value)
    {
        using var w = context.CreateReplyWriter("s");
        w.WriteString(value);
        context.Reply(w.CreateMessage());
    }

    protected static void ReplyBool(MethodContext context, bool value)
    {
        using var w = context.CreateReplyWriter("b");
        w.WriteBool(value);
        context.Reply(w.CreateMessage());
    }

    protected static void ReplyObjectPath(MethodContext context, string value)
    {
        using var w = context.CreateReplyWriter("o");
        w.WriteObjectPath(value);
        context.Reply(w.CreateMessage());
    }

    protected static void ReplyEmpty(MethodContext context)
    {
        using var w = context.CreateReplyWriter(null);
        context.Reply(w.CreateMessage());
    }

    /// <summary>Emits a signal from the service's connection, with an object path as its only argument when given.</summary>
    protected void EmitSignal(string iface, string member, string? objectPathArgument = null)
    {
        var connection = _connection ?? throw new InvalidOperationException("the service is not started");
        using var w = connection.GetMessageWriter();
        w.WriteSignalHeader(null, Path, iface, member, objectPathArgument is null ? null : "o");
        if (objectPathArgument is not null)
        {
            w.WriteObjectPath(objectPathArgument);
        }
        if (!connection.TrySendMessage(w.CreateMessage()))
        {
            throw new InvalidOperationException("the signal was not sent");
        }
    }

    /// <summary>Stops and starts again: the well-known name goes away and gets a new owner, as when systemd restarts it.</summary>
    public async Task RestartAsync(string busAddress, Action? whileStopped = null)
    {
        _connection?.Dispose();
        _connection = null;
        whileStopped?.Invoke();
        await StartAsync(busAddress);
    }

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _connection = null;
        return ValueTask.CompletedTask;
    }
}
