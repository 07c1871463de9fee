using System.Globalization;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// A host set up the flanneld &lt;= v0.17 way (config and leases written with the etcd v2 API, etcd 3.4 with
/// --enable-v2) moved to this daemon: the startup hint names the command, migrate-v2's dry run changes nothing,
/// --apply --leases copies config and leases byte for byte with their remaining TTL, a daemon then reuses its old
/// subnet, an existing v3 key is only replaced with --force, and a daemon.json with bip is warned about.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class MigrateV2EndToEndTests(ITestOutputHelper output)
{
    private const string Prefix = "/coreos.com/network";
    private const string Config = """{"Network":"10.98.0.0/16","Backend":{"Type":"host-gw"}}""";
    private const string Lease1 = """{"PublicIP":"198.51.100.1","BackendType":"host-gw"}""";
    private const string Lease2 = """{"PublicIP":"198.51.100.2","BackendType":"host-gw"}""";

    [Fact]
    public async Task V2_config_and_leases_move_to_v3_and_a_daemon_reuses_its_subnet()
    {
        await using var bed = await Testbed.CreateAsync("--enable-v2");
        V2(bed, "set", Prefix + "/config", Config);
        V2(bed, "set", "--ttl", "3600", Prefix + "/subnets/10.98.7.0-24", Lease1);
        V2(bed, "set", "--ttl", "600", Prefix + "/subnets/10.98.9.0-24", Lease2);
        string h1 = bed.AddHost(1);

        // The daemon finds no v3 config and says where the v2 one is and what to run.
        var waiting = TestDaemon.Start(bed, h1, Prefix);
        await Wait.UntilAsync(() => bed.LogOf(waiting.Process).Contains("flanneld migrate-v2 --apply", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the v2 hint");
        Assert.Contains("10.98.0.0/16", bed.LogOf(waiting.Process), StringComparison.Ordinal);
        Assert.Equal(0, await waiting.StopAsync());

        // Dry run: a table, nothing written.
        var dry = Migrate(bed, "--leases");
        output.WriteLine(dry.Stdout);
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("dry run", dry.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"/coreos.com/network/config\s+config\s+-\s+absent\s+copy", dry.Stdout);
        Assert.Matches(@"/coreos.com/network/subnets/10.98.7.0-24\s+lease\s+3[0-9]{3} s\s+absent\s+copy", dry.Stdout);
        Assert.Contains("summary: 3 to copy", dry.Stdout, StringComparison.Ordinal);
        Assert.Equal("", bed.Etcdctl(true, "get", "--prefix", Prefix).Stdout.Trim());

        // Without --leases only the config would go; with it, all three, byte for byte, leases on etcd leases.
        Assert.Contains("skip", Migrate(bed).Stdout, StringComparison.Ordinal);
        var applied = Migrate(bed, "--apply", "--leases");
        output.WriteLine(applied.Stdout);
        Assert.Equal(0, applied.ExitCode);
        Assert.Contains("3 written, 0 failed", applied.Stdout, StringComparison.Ordinal);
        Assert.Equal(Config, Get(bed, Prefix + "/config"));
        Assert.Equal(Lease1, Get(bed, Prefix + "/subnets/10.98.7.0-24"));
        Assert.Equal(Lease2, Get(bed, Prefix + "/subnets/10.98.9.0-24"));
        long ttl = RemainingTtl(bed, Prefix + "/subnets/10.98.9.0-24");
        Assert.InRange(ttl, 500, 600);

        // Again: nothing to do.
        var again = Migrate(bed, "--apply", "--leases");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("3 unchanged", again.Stdout, StringComparison.Ordinal);

        // A v3 config that differs is kept unless --force.
        const string other = """{"Network":"10.98.0.0/16","Backend":{"Type":"host-gw"},"SubnetLen":24}""";
        bed.Etcdctl(true, "put", Prefix + "/config", other);
        var kept = Migrate(bed, "--apply");
        Assert.Matches(@"/coreos.com/network/config\s+config\s+-\s+differs\s+keep v3", kept.Stdout);
        Assert.Equal(other, Get(bed, Prefix + "/config"));
        var forced = Migrate(bed, "--apply", "--force");
        Assert.Matches(@"/coreos.com/network/config\s+config\s+-\s+differs\s+overwritten", forced.Stdout);
        Assert.Equal(Config, Get(bed, Prefix + "/config"));

        // The host with PublicIP 198.51.100.1 keeps its subnet; its daemon.json sets bip: one warning naming it.
        string daemonJson = Path.Combine(bed.Directory, "daemon.json");
        File.WriteAllText(daemonJson, """{"bip": "10.98.7.1/24", "log-level": "warn"}""");
        var d = TestDaemon.Start(bed, h1, Prefix, ["--docker-daemon-json", daemonJson]);
        var env = await d.WaitForSubnetEnvAsync(bed);
        Assert.Equal("10.98.7.1/24", env["FLANNEL_SUBNET"]);
        string log = bed.LogOf(d.Process);
        Assert.Contains("Found lease 10.98.7.0-24 for current IP 198.51.100.1, reusing", log, StringComparison.Ordinal);
        await Wait.UntilAsync(() => bed.LogOf(d.Process).Contains("sets bip=", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "daemon.json warning");
        log = bed.LogOf(d.Process);
        Assert.Contains("bip=\"10.98.7.1/24\" (same as --bip=10.98.7.1/24 in the docker options)", log, StringComparison.Ordinal);
        Assert.Contains("remove \"bip\" from " + daemonJson, log, StringComparison.Ordinal);
        Assert.Equal("""{"bip": "10.98.7.1/24", "log-level": "warn"}""", File.ReadAllText(daemonJson)); // never edited

        // flanneld status says the same next to its report (no drift: the warning does not change the exit status).
        var status = Testbed.Exec(h1, [FlanneldBinary.Path, "status", "--etcd-endpoints", bed.EtcdEndpoint, "--subnet-file", d.SubnetFile,
            "--docker-daemon-json", daemonJson], check: false);
        output.WriteLine(status.Stdout + status.Stderr);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("warning    " + daemonJson + " sets bip=\"10.98.7.1/24\" (same as --bip=10.98.7.1/24 in the docker options)", status.Stdout,
            StringComparison.Ordinal);
        Assert.Equal(0, await d.StopAsync());
    }

    [Fact]
    public async Task Without_the_v2_api_migrate_v2_says_how_to_enable_it()
    {
        await using var bed = await Testbed.CreateAsync();
        var r = Migrate(bed);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("does not serve the v2 API", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--enable-v2", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_v2_uses_the_daemon_s_tls_flags()
    {
        await using var bed = await Testbed.CreateAsync();
        var pki = TestPki.Create(Path.Combine(bed.Directory, "pki"), Testbed.EtcdAddress);
        string endpoint = $"https://{Testbed.EtcdAddress}:2479", peer = $"http://{Testbed.EtcdAddress}:2480";
        bed.Start(bed.SwitchNs, EtcdServer.Binary,
        [
            "--name", "tls", "--data-dir", Path.Combine(bed.Directory, "etcd-tls"), "--enable-v2",
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"tls={peer}",
            "--cert-file", pki.ServerCert, "--key-file", pki.ServerKey, "--client-cert-auth", "--trusted-ca-file", pki.CaCert,
            "--log-level", "warn", "--logger", "zap",
        ], logName: "etcd-tls");
        await Wait.UntilAsync(() => Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=2", "etcdctl", "--endpoints", endpoint, "--ca-file", pki.CaCert,
                "--cert-file", pki.ClientCert, "--key-file", pki.ClientKey, "set", Prefix + "/config", Config], check: false).ExitCode == 0,
            TimeSpan.FromSeconds(20), "config written over TLS with the v2 API");
        string[] tls = ["--etcd-cafile", pki.CaCert, "--etcd-certfile", pki.ClientCert, "--etcd-keyfile", pki.ClientKey];

        var noCert = Testbed.Exec(bed.SwitchNs, [FlanneldBinary.Path, "migrate-v2", "--etcd-endpoints", endpoint, "--etcd-cafile", pki.CaCert], check: false);
        Assert.Equal(3, noCert.ExitCode);
        Assert.Contains("TLS handshake with etcd failed", noCert.Stderr, StringComparison.Ordinal);

        var r = Testbed.Exec(bed.SwitchNs, [FlanneldBinary.Path, "migrate-v2", "--etcd-endpoints", endpoint, .. tls, "--apply"], check: false);
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("1 written, 0 failed", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(Config, Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoint, "--cacert", pki.CaCert,
            "--cert", pki.ClientCert, "--key", pki.ClientKey, "get", "--print-value-only", Prefix + "/config"]).Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task Migrate_v2_uses_the_daemon_s_username_and_password()
    {
        await using var bed = await Testbed.CreateAsync("--enable-v2");
        V2(bed, "set", Prefix + "/config", Config);
        // etcd 3.4 keeps v2 and v3 users apart: the same root user in both, then auth on in both, and v2's guest role
        // loses its read access so that an anonymous v2 read is refused.
        Testbed.Exec(bed.SwitchNs, ["sh", "-c", $"echo pw | ETCDCTL_API=2 etcdctl --endpoints {bed.EtcdEndpoint} user add root"]);
        V2(bed, "auth", "enable");
        V2(bed, "-u", "root:pw", "role", "revoke", "guest", "--path", "/*", "--readwrite");
        bed.Etcdctl(true, "user", "add", "root:pw");
        bed.Etcdctl(true, "auth", "enable");

        var anonymous = Migrate(bed);
        Assert.Equal(3, anonymous.ExitCode);
        var wrong = Migrate(bed, "--etcd-username", "root", "--etcd-password", "nope");
        Assert.Equal(3, wrong.ExitCode);
        Assert.Contains("--etcd-username/--etcd-password", wrong.Stderr, StringComparison.Ordinal);
        var r = Migrate(bed, "--etcd-username", "root", "--etcd-password", "pw", "--apply");
        output.WriteLine(r.Stdout + r.Stderr);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("1 written, 0 failed", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(Config, bed.Etcdctl(true, "--user", "root:pw", "get", "--print-value-only", Prefix + "/config").Stdout.TrimEnd('\n'));
    }

    private static void V2(Testbed bed, params string[] args) =>
        Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=2", "etcdctl", "--endpoints", bed.EtcdEndpoint, .. args]);

    private static CommandResult Migrate(Testbed bed, params string[] args) =>
        Testbed.Exec(bed.SwitchNs, [FlanneldBinary.Path, "migrate-v2", "--etcd-endpoints", bed.EtcdEndpoint, .. args], check: false);

    private static string Get(Testbed bed, string key) => bed.Etcdctl(true, "get", "--print-value-only", key).Stdout.TrimEnd('\n');

    private static long RemainingTtl(Testbed bed, string key)
    {
        string fields = bed.Etcdctl(true, "get", key, "-w", "fields").Stdout;
        string lease = fields.Split('\n').First(l => l.StartsWith("\"Lease\"", StringComparison.Ordinal)).Split(':')[1].Trim();
        string hex = long.Parse(lease, CultureInfo.InvariantCulture).ToString("x", CultureInfo.InvariantCulture);
        string ttl = bed.Etcdctl(true, "lease", "timetolive", hex).Stdout; // "lease 694d... granted with TTL(600s), remaining(598s)"
        return long.Parse(ttl.Split("remaining(")[1].Split('s')[0], CultureInfo.InvariantCulture);
    }
}
