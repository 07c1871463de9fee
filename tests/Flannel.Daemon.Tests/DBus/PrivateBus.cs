using System.Diagnostics;
using System.Globalization;
using System.Security;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>
/// A dbus-daemon of the test's own (a socket in a temp dir, EXTERNAL auth, everything allowed), standing in for the
/// system bus. The machine's real bus is never touched. Stopped by its pid on dispose.
/// </summary>
internal sealed class PrivateBus : IDisposable
{
    private readonly Process _daemon;
    private readonly string _dir;

    private PrivateBus(Process daemon, string dir, string address)
    {
        _daemon = daemon;
        _dir = dir;
        Address = address;
    }

    /// <summary>The address to give clients, as DBUS_SYSTEM_BUS_ADDRESS would (unix:path=...,guid=...).</summary>
    public string Address { get; }

    public string SocketPath => Path.Combine(_dir, "bus.sock");

    public static async Task<PrivateBus> StartAsync()
    {
        string dir = Directory.CreateTempSubdirectory("flannel-dbus-").FullName;
        string config = Path.Combine(dir, "bus.conf");
        await File.WriteAllTextAsync(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>custom</type>
              <listen>unix:path={SecurityElement.Escape(Path.Combine(dir, "bus.sock"))}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*"/>
                <allow receive_sender="*"/>
              </policy>
            </busconfig>
            """);
        var psi = new ProcessStartInfo("dbus-daemon") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // "--print-address=1": without "=1" the next argument would be taken as the descriptor to print to.
        foreach (string a in (string[])[$"--config-file={config}", "--nofork", "--print-address=1"])
        {
            psi.ArgumentList.Add(a);
        }
        var daemon = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dbus-daemon");
        try
        {
            string? address = await daemon.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            if (string.IsNullOrEmpty(address))
            {
                throw new InvalidOperationException("dbus-daemon printed no address: " + await daemon.StandardError.ReadToEndAsync());
            }
            return new PrivateBus(daemon, dir, address.Trim());
        }
        catch
        {
            Stop(daemon);
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Stop(_daemon);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Stop(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(); // this process only, by its pid
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        p.Dispose();
    }

    public override string ToString() => $"dbus-daemon pid {_daemon.Id.ToString(CultureInfo.InvariantCulture)} at {Address}";
}
