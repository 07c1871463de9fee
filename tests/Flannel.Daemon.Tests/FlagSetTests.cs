using Flannel.Daemon.Cli;

namespace Flannel.Daemon.Tests;

[Unit]
public class FlagSetTests
{
    private sealed class Flags
    {
        public FlagSet Set { get; } = new();
        public Flag<string> Endpoints { get; }
        public Flag<bool> IpMasq { get; }
        public Flag<bool> Forward { get; }
        public Flag<int> Margin { get; }
        public Flag<IReadOnlyList<string>> Iface { get; }

        public Flags()
        {
            Endpoints = Set.Text("etcd-endpoints", "http://127.0.0.1:2379", "endpoints");
            IpMasq = Set.Switch("ip-masq", false, "masquerade");
            Forward = Set.Switch("iptables-forward-rules", true, "forward rules");
            Margin = Set.Number("subnet-lease-renew-margin", 60, "margin");
            Iface = Set.List("iface", "interface");
        }
    }

    private static readonly Func<string, string?> NoEnv = _ => null;

    [Theory]
    [InlineData("-etcd-endpoints=http://a:1")]
    [InlineData("--etcd-endpoints=http://a:1")]
    [InlineData("-etcd-endpoints", "http://a:1")]
    [InlineData("--etcd-endpoints", "http://a:1")]
    public void Go_flag_syntax_variants(params string[] args)
    {
        var f = new Flags();
        f.Set.Parse(args, NoEnv);
        Assert.Equal("http://a:1", f.Endpoints.Value);
    }

    [Fact]
    public void Booleans_repeatable_lists_and_positional_arguments()
    {
        var f = new Flags();
        f.Set.Parse(["--ip-masq", "--iptables-forward-rules=false", "-iface", "eth0", "--iface=198.51.100.1", "pos1", "--ip-masq=false"], NoEnv);
        Assert.True(f.IpMasq.Value);
        Assert.False(f.Forward.Value);
        Assert.Equal(["eth0", "198.51.100.1"], f.Iface.Value);
        Assert.Equal(["pos1", "--ip-masq=false"], f.Set.Positional); // flags end at the first non-flag, as in Go
    }

    [Fact]
    public void Environment_fills_flags_not_given_and_the_command_line_wins()
    {
        var env = new Dictionary<string, string>
        {
            ["FLANNELD_ETCD_ENDPOINTS"] = "http://env:2379",
            ["FLANNELD_IP_MASQ"] = "true",
            ["FLANNELD_SUBNET_LEASE_RENEW_MARGIN"] = "",
            ["FLANNELD_IFACE"] = "eth9",
        };
        var f = new Flags();
        f.Set.Parse(["--iface=eth1"], k => env.GetValueOrDefault(k));
        Assert.Equal("http://env:2379", f.Endpoints.Value);
        Assert.True(f.IpMasq.Value);
        Assert.Equal(60, f.Margin.Value); // empty values are ignored
        Assert.Equal(["eth1"], f.Iface.Value);
    }

    [Theory]
    [InlineData("unknown flag --nope", "--nope")]
    [InlineData("unknown flag --etcd-endpoint (did you mean --etcd-endpoints?)", "--etcd-endpoint=http://e:2379")]
    [InlineData("unknown flag --ip-masqq (did you mean --ip-masq?)", "-ip-masqq")]
    [InlineData("flag --etcd-endpoints needs a value (--etcd-endpoints=VALUE or --etcd-endpoints VALUE)", "--etcd-endpoints")]
    [InlineData("invalid value \"abc\" for flag --subnet-lease-renew-margin: invalid syntax", "--subnet-lease-renew-margin=abc")]
    [InlineData("invalid value \"yes\" for flag --ip-masq: invalid syntax", "--ip-masq=yes")]
    [InlineData("bad flag syntax: ---x", "---x")]
    public void Errors_name_the_flag(string message, params string[] args)
    {
        var e = Assert.Throws<FlagException>(() => new Flags().Set.Parse(args, NoEnv));
        Assert.Equal(message, e.Message);
        Assert.False(e.IsHelp);
    }

    [Fact]
    public void Bad_environment_value_names_the_variable()
    {
        var e = Assert.Throws<FlagException>(() => new Flags().Set.Parse([], k => k == "FLANNELD_SUBNET_LEASE_RENEW_MARGIN" ? "x" : null));
        Assert.Contains("FLANNELD_SUBNET_LEASE_RENEW_MARGIN", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("-help")]
    public void Help_is_reported_as_help(string arg) =>
        Assert.True(Assert.Throws<FlagException>(() => new Flags().Set.Parse([arg], NoEnv)).IsHelp);
}
