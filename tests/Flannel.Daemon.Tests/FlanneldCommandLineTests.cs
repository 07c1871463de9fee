using Flannel.Daemon.Tests.EndToEnd;

namespace Flannel.Daemon.Tests;

/// <summary>The flanneld binary's command line: help, version, bad flags, refused modes.</summary>
[Unit]
public class FlanneldCommandLineTests
{
    private static CommandResult Run(params string[] args) => Command.TryRun(FlanneldBinary.Path, args);

    [Fact]
    public void Help_groups_the_flags_and_names_the_environment_variables()
    {
        var r = Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var s in new[] { "etcd:", "network:", "lease and files:", "iptables:", "operations:", "--etcd-endpoints value",
                     "env FLANNELD_ETCD_ENDPOINTS", "env FLANNELD_IFACE", "--ip-masq\n", "env FLANNELD_SUBNET_LEASE_RENEW_MARGIN",
                     "check-config", "(default \"/run/flannel/subnet.env\")" })
        {
            Assert.Contains(s, r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Version_goes_to_stderr_like_flanneld()
    {
        var r = Run("-version");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Stderr);
    }

    [Fact]
    public void Unknown_flag_is_one_line_with_a_suggestion_and_exits_2()
    {
        var r = Run("--etcd-endpoint=http://198.51.100.254:2379");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal("flanneld: unknown flag --etcd-endpoint (did you mean --etcd-endpoints?); see flanneld --help\n", r.Stderr);
        var far = Run("--no-such-flag");
        Assert.Equal(2, far.ExitCode);
        Assert.Equal("flanneld: unknown flag --no-such-flag; see flanneld --help\n", far.Stderr);
    }

    [Fact]
    public void Bad_renew_margin_from_the_environment_exits_1_with_flanneld_message()
    {
        var r = Command.TryRun("env", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN=1440", FlanneldBinary.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Invalid subnet-lease-renew-margin option, out of acceptable range", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubernetes_mode_is_accepted_as_a_flag_and_refused_clearly()
    {
        var r = Run("--kube-subnet-mgr");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Kubernetes mode is not supported", r.Stderr, StringComparison.Ordinal);
    }
}
