using Flannel.Subnet.Ip;
using Flannel.Subnet;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace Flannel.Daemon.Tests;

/// <summary>scripts/mk-docker-opts.sh, run with /bin/sh, against flannel's own test vectors (compat §5) and more.</summary>
[SupportedOSPlatform("linux")]
[Unit]
public sealed class MkDockerOptsScriptTests : IDisposable
{
    // flannel's dist/sample_subnet.env.
    private const string SampleSubnetEnv = """
        FLANNEL_NETWORK=10.1.0.0/16
        FLANNEL_SUBNET=10.1.74.1/24
        FLANNEL_MTU=1472
        FLANNEL_IPMASQ=false

        """;

    private readonly TempDir _dir = new();

    public MkDockerOptsScriptTests()
    {
        Processes.AssertNoRouteVia("10.1.74.0/24");
    }

    public void Dispose() => _dir.Dispose();

    private string DockerEnv => _dir.File("docker_opts.env");

    private CommandResult Run(string subnetEnv, IReadOnlyList<string> flags, IReadOnlyDictionary<string, string>? env = null)
    {
        string flannelEnv = _dir.File("subnet.env");
        File.WriteAllText(flannelEnv, subnetEnv);
        return RunScript(["-f", flannelEnv, "-d", DockerEnv, .. flags], env);
    }

    private static CommandResult RunScript(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? workingDirectory = null) =>
        Processes.Run("/bin/sh", [Repo.MkDockerOpts, .. args], env, workingDirectory);

    /// <summary>What <c>diff -B -b</c> compares: blank lines dropped, runs of white space as one, none at line ends.</summary>
    private static List<string> DiffBb(string text) =>
        text.Split('\n')
            .Select(line => Regex.Replace(line, @"\s+", " ").TrimEnd())
            .Where(line => line.Length > 0)
            .ToList();

    [Theory]
    [InlineData("", """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
        """)]
    [InlineData("-i", """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        """)]
    [InlineData("-c", """
        DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
        """)]
    [InlineData("-k CUSTOM_KEY", """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_IPMASQ="--ip-masq=true"
        DOCKER_OPT_MTU="--mtu=1472"
        CUSTOM_KEY=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
        """)]
    [InlineData("-m", """
        DOCKER_OPT_BIP="--bip=10.1.74.1/24"
        DOCKER_OPT_MTU="--mtu=1472"
        DOCKER_OPTS=" --bip=10.1.74.1/24 --mtu=1472"
        """)]
    public void Flannel_test_vectors(string flags, string expected)
    {
        var result = Run(SampleSubnetEnv, flags.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        Assert.Equal(DiffBb(expected), DiffBb(File.ReadAllText(DockerEnv)));
    }

    [Fact]
    public void Default_output_is_exactly_flannels()
    {
        var result = Run(SampleSubnetEnv, []);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""
            DOCKER_OPT_BIP="--bip=10.1.74.1/24"
            DOCKER_OPT_IPMASQ="--ip-masq=true"
            DOCKER_OPT_MTU="--mtu=1472"
            DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"

            """, File.ReadAllText(DockerEnv));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void An_IPv6_lease_gives_dockerd_ipv6_and_its_subnet_the_same_way_the_daemon_writes_it()
    {
        const string dualStack = """
            FLANNEL_NETWORK=10.1.0.0/16
            FLANNEL_SUBNET=10.1.74.1/24
            FLANNEL_IPV6_NETWORK=2001:db8:52::/48
            FLANNEL_IPV6_SUBNET=2001:db8:52:7::1/64
            FLANNEL_MTU=1472
            FLANNEL_IPMASQ=false

            """;
        var result = Run(dualStack, []);
        Assert.True(result.ExitCode == 0, result.ToString());
        const string expected = """
            DOCKER_OPT_BIP="--bip=10.1.74.1/24"
            DOCKER_OPT_FIXED_CIDR_V6="--fixed-cidr-v6=2001:db8:52:7::1/64"
            DOCKER_OPT_IPMASQ="--ip-masq=true"
            DOCKER_OPT_IPV6="--ipv6"
            DOCKER_OPT_MTU="--mtu=1472"
            DOCKER_OPTS=" --bip=10.1.74.1/24 --fixed-cidr-v6=2001:db8:52:7::1/64 --ip-masq=true --ipv6 --mtu=1472"

            """;
        Assert.Equal(expected, File.ReadAllText(DockerEnv));
        var env = new SubnetEnv(Ip4Network.ParseCidr("10.1.0.0/16"), Ip4Network.ParseCidr("10.1.74.0/24"),
            Ip6Network.ParseCidr("2001:db8:52::/48"), Ip6Network.ParseCidr("2001:db8:52:7::/64"), 1472, IpMasq: false);
        Assert.Equal(expected, Flannel.Daemon.EnvFiles.DockerOptions.Format(env));
    }

    [Fact]
    public void Flannel_masquerading_turns_docker_masquerading_off()
    {
        var result = Run(SampleSubnetEnv.Replace("FLANNEL_IPMASQ=false", "FLANNEL_IPMASQ=true", StringComparison.Ordinal), []);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""
            DOCKER_OPT_BIP="--bip=10.1.74.1/24"
            DOCKER_OPT_IPMASQ="--ip-masq=false"
            DOCKER_OPT_MTU="--mtu=1472"
            DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=false --mtu=1472"

            """, File.ReadAllText(DockerEnv));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("True")]
    [InlineData("1")]
    public void Invalid_ipmasq_value_exits_1_with_flannels_message(string value)
    {
        var result = Run(SampleSubnetEnv.Replace("FLANNEL_IPMASQ=false", "FLANNEL_IPMASQ=" + value, StringComparison.Ordinal), []);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"Invalid value of FLANNEL_IPMASQ: {value}\n", result.Stderr);
        Assert.False(File.Exists(DockerEnv)); // as flannel's script: it stops before touching the docker env file
    }

    [Fact]
    public void Ipmasq_value_is_not_checked_with_m()
    {
        var result = Run(SampleSubnetEnv.Replace("FLANNEL_IPMASQ=false", "FLANNEL_IPMASQ=yes", StringComparison.Ordinal), ["-m"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("ip-masq", File.ReadAllText(DockerEnv), StringComparison.Ordinal);
    }

    [Fact]
    public void Unset_values_leave_their_option_out()
    {
        var result = Run("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\n", []);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("DOCKER_OPT_BIP=\"--bip=10.1.74.1/24\"\nDOCKER_OPTS=\" --bip=10.1.74.1/24\"\n", File.ReadAllText(DockerEnv));
    }

    [Fact]
    public void Missing_flannel_env_file_is_an_error_and_the_docker_env_file_is_left_alone()
    {
        // flannel's script writes DOCKER_OPTS="" here and exits 0: dockerd would start off the overlay.
        File.WriteAllText(DockerEnv, "DOCKER_OPTS=\" --bip=10.1.74.1/24\"\n");
        string absent = _dir.File("absent.env");
        var result = RunScript(["-f", absent, "-d", DockerEnv]);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Equal($"{Repo.MkDockerOpts}: {absent} does not exist: flanneld writes it once it holds a lease (is it running? " +
                     "systemctl status flanneld); docker options not written\n", result.Stderr);
        Assert.Equal("DOCKER_OPTS=\" --bip=10.1.74.1/24\"\n", File.ReadAllText(DockerEnv));
    }

    [Fact]
    public void A_flannel_env_file_without_a_subnet_is_an_error()
    {
        var result = Run("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_MTU=1450\n", []);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"{Repo.MkDockerOpts}: {_dir.File("subnet.env")} has no FLANNEL_SUBNET (nor FLANNEL_IPV6_SUBNET; is it flanneld's subnet file?); docker options not written\n",
            result.Stderr);
        Assert.False(File.Exists(DockerEnv));
        var directory = RunScript(["-f", _dir.Path, "-d", DockerEnv]);
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal($"{Repo.MkDockerOpts}: cannot read {_dir.Path} (not a readable file); docker options not written\n", directory.Stderr);
    }

    [Fact]
    public void Help_goes_to_stdout_with_exit_0()
    {
        var result = RunScript(["-h"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        Assert.StartsWith($"usage: {Repo.MkDockerOpts} [-f FLANNEL-ENV-FILE] [-d DOCKER-ENV-FILE] [-i] [-c] [-m] [-k COMBINED-KEY]\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("  -h       print this help\n", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-?", "")]
    [InlineData("-x", "Illegal option -x")]
    [InlineData("-f", "No arg for -f option")] // missing argument; dash's getopts wording
    public void A_bad_option_prints_the_usage_on_stderr_with_exit_1(string flag, string getoptsSays)
    {
        var result = RunScript([flag]);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains(getoptsSays, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("[-f FLANNEL-ENV-FILE] [-d DOCKER-ENV-FILE] [-i] [-c] [-m] [-k COMBINED-KEY]", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_value_of_the_key_comes_first()
    {
        var result = Run(SampleSubnetEnv, ["-c"], new Dictionary<string, string> { ["DOCKER_OPTS"] = "--debug" });
        Assert.True(result.ExitCode == 0, result.ToString());
        // flannel's script adds a space after the existing value and one before every option.
        Assert.Equal("DOCKER_OPTS=\"--debug  --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", File.ReadAllText(DockerEnv));

        result = Run(SampleSubnetEnv + "EXTRA=\"-D\"\n", ["-c", "-k", "EXTRA"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("EXTRA=\"-D  --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", File.ReadAllText(DockerEnv));
    }

    [Fact]
    public void Other_docker_opt_variables_are_written_in_name_order()
    {
        var result = Run(SampleSubnetEnv + "DOCKER_OPT_DNS=\"--dns=192.0.2.53\"\n", []);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""
            DOCKER_OPT_BIP="--bip=10.1.74.1/24"
            DOCKER_OPT_DNS="--dns=192.0.2.53"
            DOCKER_OPT_IPMASQ="--ip-masq=true"
            DOCKER_OPT_MTU="--mtu=1472"
            DOCKER_OPTS=" --bip=10.1.74.1/24 --dns=192.0.2.53 --ip-masq=true --mtu=1472"

            """, File.ReadAllText(DockerEnv));
    }

    [Fact]
    public void The_docker_env_file_is_truncated_first()
    {
        File.WriteAllText(DockerEnv, "OLD=1\nOLDER=2\nOLDEST=3\nDOCKER_OPTS=\"--stale\"\n");
        var result = Run(SampleSubnetEnv, ["-c"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", File.ReadAllText(DockerEnv));
    }

    [Fact]
    public void A_key_that_is_not_a_variable_name_is_refused()
    {
        var result = Run(SampleSubnetEnv, ["-k", "X;touch pwned"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("-k needs a shell variable name", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Repo.Root, "pwned")));
    }

    [Fact]
    public void A_relative_env_file_name_is_read_from_the_current_directory()
    {
        File.WriteAllText(_dir.File("subnet.env"), SampleSubnetEnv);
        var result = RunScript(["-f", "subnet.env", "-d", "out.env", "-c"], workingDirectory: _dir.Path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n", File.ReadAllText(_dir.File("out.env")));
    }

    // The routing-table check runs `ip route show`; a stub `ip` first on PATH gives it a routing table to look at.
    private Dictionary<string, string> WithRoutes(params string[] routes)
    {
        string bin = _dir.File("bin");
        Directory.CreateDirectory(bin);
        string routeFile = _dir.File("routes");
        File.WriteAllText(routeFile, string.Concat(routes.Select(r => r + "\n")));
        string ip = Path.Combine(bin, "ip");
        File.WriteAllText(ip, $"#!/bin/sh\n[ \"$1 $2\" = \"route show\" ] || exit 2\ncat '{routeFile}'\n");
        File.SetUnixFileMode(ip, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new Dictionary<string, string> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") };
    }

    [Fact]
    public void A_route_to_the_subnet_via_another_host_fails_after_writing_the_file()
    {
        var env = WithRoutes("default via 192.0.2.1 dev eth0", "10.1.74.0/24 via 192.0.2.9 dev eth0 onlink",
            "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2");
        var result = Run(SampleSubnetEnv, [], env);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Your routing table already contains the subnet: 10.1.74.0/24 via 192.0.2.9 dev eth0 onlink\n", result.Stderr);
        Assert.Contains("DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"", File.ReadAllText(DockerEnv), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1.74.0/24 dev docker0 proto kernel scope link src 10.1.74.1")] // the bridge's own route
    [InlineData("110.1.74.0/24 via 192.0.2.9 dev eth0")]
    [InlineData("10.1.74.0/25 via 192.0.2.9 dev eth0")]
    [InlineData("10.1.75.0/24 via 10.1.75.0 dev flannel.1 onlink")]
    public void Other_routes_pass_the_check(string route)
    {
        var result = Run(SampleSubnetEnv, [], WithRoutes("default via 192.0.2.1 dev eth0", route));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void The_check_uses_the_network_address_of_the_subnet()
    {
        var result = Run("FLANNEL_SUBNET=10.1.72.1/22\nFLANNEL_MTU=1500\n", ["-c"], WithRoutes("10.1.72.0/22 via 192.0.2.9 dev eth0"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Your routing table already contains the subnet: 10.1.72.0/22 via 192.0.2.9 dev eth0\n", result.Stderr);
    }

    [Fact]
    public void The_script_is_executable()
    {
        var mode = File.GetUnixFileMode(Repo.MkDockerOpts);
        Assert.True(mode.HasFlag(UnixFileMode.UserExecute), mode.ToString());
        Assert.StartsWith("#!/bin/sh\n", File.ReadAllText(Repo.MkDockerOpts), StringComparison.Ordinal);
    }
}
