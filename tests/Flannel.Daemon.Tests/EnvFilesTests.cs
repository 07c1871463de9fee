using Flannel.Subnet;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Flannel.Daemon.EnvFiles;
using Flannel.Subnet.Ip;

namespace Flannel.Daemon.Tests;

[SupportedOSPlatform("linux")]
[Unit]
public sealed class EnvFilesTests : IDisposable
{
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode0755 = Mode0644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Ip4Network V4(string cidr) => Ip4Network.ParseCidr(cidr);

    private static Ip6Network V6(string cidr) => Ip6Network.ParseCidr(cidr);

    // The vxlan example of compat §4.
    private static readonly SubnetEnv Vxlan = new(V4("10.5.0.0/16"), V4("10.5.88.0/24"), null, null, 1450, true);

    [Fact]
    public void Subnet_env_is_flanneds_format()
    {
        Assert.Equal("""
            FLANNEL_NETWORK=10.5.0.0/16
            FLANNEL_SUBNET=10.5.88.1/24
            FLANNEL_MTU=1450
            FLANNEL_IPMASQ=true

            """, Vxlan.Format());
    }

    [Fact]
    public void Subnet_env_read_back_gives_what_was_written_and_follows_godotenv_quoting()
    {
        string path = _dir.File("subnet.env");
        Assert.Null(SubnetEnv.TryRead(path));

        File.WriteAllText(path, Vxlan.Format());
        Assert.Equal(Vxlan, SubnetEnv.TryRead(path));

        // Hand-edited the way godotenv (flanneld's reader) still accepts: export, quotes, a comment.
        File.WriteAllText(path, "# edited\nexport FLANNEL_NETWORK=\"10.5.0.0/16\"\nFLANNEL_SUBNET='10.5.88.1/24'\nFLANNEL_MTU=\"1450\"\nFLANNEL_IPMASQ=false\n");
        Assert.Equal(Vxlan with { IpMasq = false }, SubnetEnv.TryRead(path));

        File.WriteAllText(path, "FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.88.1/24\n");
        Assert.Null(SubnetEnv.TryRead(path)); // no MTU: not a file a daemon wrote
    }

    [Fact]
    public void Subnet_env_dual_stack_puts_the_ipv6_lines_between_subnet_and_mtu()
    {
        var env = new SubnetEnv(V4("10.5.0.0/16"), V4("10.5.88.0/24"), V6("fd00:10:5::/48"), V6("fd00:10:5:58::/64"), 1450, false);
        Assert.Equal("""
            FLANNEL_NETWORK=10.5.0.0/16
            FLANNEL_SUBNET=10.5.88.1/24
            FLANNEL_IPV6_NETWORK=fd00:10:5::/48
            FLANNEL_IPV6_SUBNET=fd00:10:5:58::1/64
            FLANNEL_MTU=1450
            FLANNEL_IPMASQ=false

            """, env.Format());
    }

    [Fact]
    public void Subnet_env_ipv6_only_has_no_ipv4_lines()
    {
        var env = new SubnetEnv(null, null, V6("fd00:10:5::/48"), V6("fd00:10:5:58::/64"), 1500, false);
        Assert.Equal("FLANNEL_IPV6_NETWORK=fd00:10:5::/48\nFLANNEL_IPV6_SUBNET=fd00:10:5:58::1/64\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n",
            env.Format());
    }

    [Fact]
    public void Subnet_env_is_read_back_by_the_subnet_file_reader()
    {
        string path = _dir.File("subnet.env");
        AtomicFile.Write(path, new SubnetEnv(V4("10.5.0.0/16"), V4("10.5.88.0/24"), V6("fd00:10:5::/48"), V6("fd00:10:5:58::/64"), 1450, true).Format());
        var previous = Flannel.Subnet.SubnetFile.ReadPrevious(path);
        Assert.Equal(V4("10.5.0.0/16"), previous.Network);
        Assert.Equal(V4("10.5.88.0/24"), previous.Subnet);
        Assert.Equal(V6("fd00:10:5::/48"), previous.Ipv6Network);
        Assert.Equal(V6("fd00:10:5:58::/64"), previous.Ipv6Subnet);
    }

    [Fact]
    public void Docker_options_for_flannels_sample()
    {
        var env = new SubnetEnv(V4("10.1.0.0/16"), V4("10.1.74.0/24"), null, null, 1472, false);
        Assert.Equal("""
            DOCKER_OPT_BIP="--bip=10.1.74.1/24"
            DOCKER_OPT_IPMASQ="--ip-masq=true"
            DOCKER_OPT_MTU="--mtu=1472"
            DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"

            """, DockerOptions.Format(env));
        Assert.EndsWith("\nCUSTOM_KEY=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", DockerOptions.Format(env, "CUSTOM_KEY"),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1KEY")]
    [InlineData("DOCKER-OPTS")]
    [InlineData("X;rm")]
    public void Docker_options_key_must_be_a_variable_name(string key)
    {
        Assert.Throws<ArgumentException>(() => DockerOptions.Format(Vxlan, key));
    }

    public static TheoryData<string, string> ScriptCases => new()
    {
        { "flannel sample", "10.1.0.0/16 10.1.74.0/24 - - 1472 false" },
        { "vxlan", "10.5.0.0/16 10.5.88.0/24 - - 1450 true" },
        { "host-gw /22", "10.200.0.0/16 10.200.4.0/22 - - 1500 false" },
        { "dual stack", "10.5.0.0/16 10.5.88.0/24 fd00:10:5::/48 fd00:10:5:58::/64 1450 true" },
        { "ipv6 only", "- - fd00:10:5::/48 fd00:10:5:58::/64 1500 false" },
    };

    [Theory]
    [MemberData(nameof(ScriptCases))]
    public void Docker_options_equal_what_mk_docker_opts_writes(string name, string fields)
    {
        var f = fields.Split(' ');
        var env = new SubnetEnv(f[0] == "-" ? null : V4(f[0]), f[1] == "-" ? null : V4(f[1]),
            f[2] == "-" ? null : V6(f[2]), f[3] == "-" ? null : V6(f[3]), int.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture),
            bool.Parse(f[5]));
        if (env.Subnet is { } subnet)
        {
            Processes.AssertNoRouteVia(subnet.ToString());
        }
        string subnetEnv = _dir.File("subnet.env");
        string dockerEnv = _dir.File("docker_opts.env");
        AtomicFile.Write(subnetEnv, env.Format());

        foreach (var key in new[] { "DOCKER_OPTS", "DOCKER_NETWORK_OPTIONS" })
        {
            var result = Processes.Run("/bin/sh", [Repo.MkDockerOpts, "-f", subnetEnv, "-d", dockerEnv, "-k", key]);
            Assert.True(result.ExitCode == 0, $"{name}: {result}");
            Assert.Equal(File.ReadAllText(dockerEnv), DockerOptions.Format(env, key));
        }
    }

    [Fact]
    public void Atomic_write_creates_the_file_with_mode_0644()
    {
        string path = _dir.File("subnet.env");
        AtomicFile.Write(path, Vxlan.Format());
        Assert.Equal(Vxlan.Format(), File.ReadAllText(path));
        Assert.Equal(Mode0644, File.GetUnixFileMode(path));
        Assert.Equal(["subnet.env"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Atomic_write_creates_missing_parent_directories_0755()
    {
        string path = Path.Combine(_dir.Path, "run", "flannel", "subnet.env");
        AtomicFile.Write(path, "A=1\n");
        Assert.Equal("A=1\n", File.ReadAllText(path));
        Assert.Equal(Mode0755, File.GetUnixFileMode(_dir.File("run")));
        Assert.Equal(Mode0755, File.GetUnixFileMode(Path.Combine(_dir.Path, "run", "flannel")));
    }

    [Fact]
    public void Atomic_write_replaces_an_existing_file_and_its_mode()
    {
        string path = _dir.File("subnet.env");
        File.WriteAllText(path, "OLD=1\nOLDER=2\nOLDEST=3\nA_LONGER_OLD_CONTENT=4\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var reader = new StreamReader(path))
        {
            AtomicFile.Write(path, "NEW=1\n");
            // Renamed over, not rewritten in place: a reader that had the file open still reads the old content whole.
            Assert.Equal("OLD=1\nOLDER=2\nOLDEST=3\nA_LONGER_OLD_CONTENT=4\n", reader.ReadToEnd());
        }
        Assert.Equal("NEW=1\n", File.ReadAllText(path));
        Assert.Equal(Mode0644, File.GetUnixFileMode(path));
        Assert.Equal(["subnet.env"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Atomic_write_failure_leaves_no_temporary_file()
    {
        string path = _dir.File("subnet.env");
        Directory.CreateDirectory(path); // a directory cannot be renamed over
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, "A=1\n"));
        Assert.Equal(["subnet.env"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        Assert.True(Directory.Exists(path));
    }
}

/// <summary>The process umask is shared by every thread: these tests run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UmaskTestGroup
{
    public const string Name = "process umask";
}

[Collection(UmaskTestGroup.Name)]
[SupportedOSPlatform("linux")]
[Unit]
public sealed partial class AtomicFileUmaskTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [Fact]
    public void Modes_are_0644_and_0755_even_under_umask_077()
    {
        string path = Path.Combine(_dir.Path, "run", "subnet.env");
        uint saved = Umask(0b000_111_111); // 077
        try
        {
            // What a plain create gives under this umask, to show the umask is in force.
            string plain = _dir.File("plain");
            File.WriteAllText(plain, "");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(plain));

            AtomicFile.Write(path, "A=1\n");
        }
        finally
        {
            _ = Umask(saved);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(_dir.File("run")));
    }
}
