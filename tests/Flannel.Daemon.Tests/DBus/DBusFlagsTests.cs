using Flannel.Daemon.Cli;

namespace Flannel.Daemon.Tests.DBus;

/// <summary>The three opt-out flags: defaults, command line, FLANNELD_* variables, and their --help group.</summary>
[Unit]
public sealed class DBusFlagsTests
{
    private static DaemonSettings Settings(string[] args, Dictionary<string, string>? env = null)
    {
        var flags = new DaemonFlags();
        flags.Set.Parse(args, k => env?.GetValueOrDefault(k));
        return DaemonSettings.From(flags);
    }

    [Fact]
    public void Firewalld_and_NetworkManager_are_on_and_the_docker_restart_is_off_by_default()
    {
        var h = Settings([]).DBus;
        Assert.True(h.Firewalld);
        Assert.True(h.NetworkManagerUnmanaged);
        Assert.False(h.RestartDockerOnSubnetChange);
        Assert.Null(h.BusAddress); // the system bus
    }

    [Fact]
    public void Each_flag_is_read_from_the_command_line()
    {
        var h = Settings(["--firewalld=false", "--networkmanager-unmanaged=false", "--restart-docker-on-subnet-change"]).DBus;
        Assert.False(h.Firewalld);
        Assert.False(h.NetworkManagerUnmanaged);
        Assert.True(h.RestartDockerOnSubnetChange);
    }

    [Fact]
    public void Each_flag_is_read_from_its_FLANNELD_variable()
    {
        var h = Settings([], new Dictionary<string, string>
        {
            ["FLANNELD_FIREWALLD"] = "false",
            ["FLANNELD_NETWORKMANAGER_UNMANAGED"] = "false",
            ["FLANNELD_RESTART_DOCKER_ON_SUBNET_CHANGE"] = "true",
        }).DBus;
        Assert.False(h.Firewalld);
        Assert.False(h.NetworkManagerUnmanaged);
        Assert.True(h.RestartDockerOnSubnetChange);
    }

    [Fact]
    public void Help_lists_them_in_the_host_integration_group()
    {
        string help = HelpText.Render(new DaemonFlags());
        int group = help.IndexOf("host integration (D-Bus):", StringComparison.Ordinal);
        Assert.True(group >= 0, help);
        foreach (string s in new[] { "--firewalld", "env FLANNELD_FIREWALLD", "--networkmanager-unmanaged", "env FLANNELD_NETWORKMANAGER_UNMANAGED",
                     "--restart-docker-on-subnet-change", "env FLANNELD_RESTART_DOCKER_ON_SUBNET_CHANGE" })
        {
            Assert.True(help.IndexOf(s, group, StringComparison.Ordinal) > group, $"{s} not under the group:\n{help}");
        }
    }
}

[Unit]
public class SystemBusAddressTests
{
    [Fact]
    public void A_plain_unix_path_without_a_file_is_known_missing_before_connecting()
    {
        using var dir = new TempDir();
        string sock = Path.Combine(dir.Path, "bus");
        Assert.Equal(sock, Flannel.Daemon.DBus.SystemBus.MissingUnixSocket("unix:path=" + sock));
        Assert.Equal(sock, Flannel.Daemon.DBus.SystemBus.MissingUnixSocket("unix:path=" + sock + ",guid=0123"));
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(sock)); // a real socket file counts as present
            Assert.Null(Flannel.Daemon.DBus.SystemBus.MissingUnixSocket("unix:path=" + sock));
        }
        Assert.Null(Flannel.Daemon.DBus.SystemBus.MissingUnixSocket("unix:abstract=/tmp/x"));
        Assert.Null(Flannel.Daemon.DBus.SystemBus.MissingUnixSocket("tcp:host=127.0.0.1,port=1;unix:path=" + sock));
    }
}
