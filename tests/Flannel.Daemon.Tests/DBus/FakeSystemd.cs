using Tmds.DBus.Protocol;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>systemd's Manager.TryRestartUnit, answering with a job path as systemd does.</summary>
internal sealed class FakeSystemd() : FakeService("/org/freedesktop/systemd1")
{
    protected override string ServiceName => "org.freedesktop.systemd1";

    /// <summary>Read at each restart call, to check what the host looked like then (e.g. subnet.env's content).</summary>
    public Func<string>? Observe { get; set; }

    public System.Collections.Concurrent.ConcurrentQueue<string> Observed { get; } = new();

    protected override void Handle(MethodContext context, string iface, string member, string path, ref Reader body)
    {
        if ((iface, member) == ("org.freedesktop.systemd1.Manager", "TryRestartUnit"))
        {
            string unit = body.ReadString(), mode = body.ReadString();
            if (Observe is { } observe)
            {
                Observed.Enqueue(observe());
            }
            Record($"TryRestartUnit {unit} {mode}");
            ReplyObjectPath(context, "/org/freedesktop/systemd1/job/42");
            return;
        }
        Record($"{iface}.{member}");
    }
}
