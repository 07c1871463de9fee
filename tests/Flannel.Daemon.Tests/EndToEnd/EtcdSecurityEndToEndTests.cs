using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The published flanneld against a secured etcd in a testbed: client certificates (etcd with --client-cert-auth) and
/// username/password authentication. Good credentials lease a subnet; bad ones give a clear error in the log within a
/// bounded time while the daemon keeps retrying (as flanneld does), never a silent hang. Needs root and openssl.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed class EtcdSecurityEndToEndTests(ITestOutputHelper output)
{
    private const string Prefix = "/sec/network";
    private static readonly TimeSpan ErrorWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EtcdSecurity_client_certificates_required_by_etcd()
    {
        await using var bed = await Testbed.CreateAsync();
        var pki = TestPki.Create(Path.Combine(bed.Directory, "pki"), Testbed.EtcdAddress);
        // A second etcd in the switch namespace, https only, that wants a client certificate signed by our CA.
        string endpoint = $"https://{Testbed.EtcdAddress}:2479", peer = $"http://{Testbed.EtcdAddress}:2480";
        bed.Start(bed.SwitchNs, EtcdServer.Binary,
        [
            "--name", "tls", "--data-dir", Path.Combine(bed.Directory, "etcd-tls"),
            "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"tls={peer}",
            "--cert-file", pki.ServerCert, "--key-file", pki.ServerKey, "--client-cert-auth", "--trusted-ca-file", pki.CaCert,
            "--log-level", "warn", "--logger", "zap",
        ], logName: "etcd-tls");
        string[] etcdctl = ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoint, "--cacert", pki.CaCert, "--cert", pki.ClientCert, "--key", pki.ClientKey];
        await Wait.UntilAsync(() => Testbed.Exec(bed.SwitchNs, [.. etcdctl, "put", Prefix + "/config", """{"Network":"10.62.0.0/16","Backend":{"Type":"host-gw"}}"""], check: false).ExitCode == 0,
            TimeSpan.FromSeconds(20), "TLS etcd accepts the config");
        // etcd really refuses a client without a certificate.
        Assert.NotEqual(0, Testbed.Exec(bed.SwitchNs, ["env", "ETCDCTL_API=3", "etcdctl", "--endpoints", endpoint, "--cacert", pki.CaCert,
            "--dial-timeout", "2s", "--command-timeout", "3s", "get", Prefix + "/config"], check: false).ExitCode);
        string h1 = bed.AddHost(1);

        // The right client certificate: the daemon proper leases a subnet and writes subnet.env and dockerd's options.
        string dockerOpts = Path.Combine(bed.Directory, "h1.docker");
        var good = StartDaemon(bed, h1, endpoint, "good", ["--etcd-cafile", pki.CaCert, "--etcd-certfile", pki.ClientCert, "--etcd-keyfile", pki.ClientKey, "--docker-opts-file", dockerOpts]);
        var env = await good.WaitForSubnetEnvAsync(bed);
        output.WriteLine(bed.LogOf(good.Process));
        Assert.Equal("10.62.0.0/16", env["FLANNEL_NETWORK"]);
        string lease = TestDaemon.NetworkOf(env["FLANNEL_SUBNET"]).Replace('/', '-');
        Assert.Contains("\"PublicIP\":\"198.51.100.1\"", Testbed.Exec(bed.SwitchNs, [.. etcdctl, "get", $"{Prefix}/subnets/{lease}"]).Stdout, StringComparison.Ordinal);
        await Wait.UntilAsync(() => File.Exists(dockerOpts), TimeSpan.FromSeconds(10), "docker options written");
        // Both files: mode 0644, owned by root (the daemon runs as root).
        foreach (var f in new[] { good.SubnetFile, dockerOpts })
        {
            Assert.Equal("644 root:root", Command.Run("stat", "-c", "%a %U:%G", f).Trim());
        }
        Assert.Equal(0, await good.StopAsync());

        // No client certificate; a client certificate from another CA; a CA that did not sign etcd's certificate:
        // each daemon says why it cannot reach etcd, within 30 s, writes nothing and keeps retrying.
        var noCert = StartDaemon(bed, h1, endpoint, "nocert", ["--etcd-cafile", pki.CaCert]);
        var rogue = StartDaemon(bed, h1, endpoint, "rogue", ["--etcd-cafile", pki.CaCert, "--etcd-certfile", pki.RogueCert, "--etcd-keyfile", pki.RogueKey]);
        var wrongCa = StartDaemon(bed, h1, endpoint, "wrongca", ["--etcd-cafile", pki.OtherCaCert, "--etcd-certfile", pki.ClientCert, "--etcd-keyfile", pki.ClientKey]);
        foreach (var d in new[] { noCert, rogue, wrongCa })
        {
            string line = await WaitForLogLineAsync(bed, d, "Cannot read network config from etcd");
            output.WriteLine(line);
            Assert.Contains("TLS handshake with etcd failed (check that --etcd-cafile is the CA of etcd's server certificate", line, StringComparison.Ordinal);
            Assert.False(d.Process.HasExited, "the daemon keeps retrying:\n" + bed.LogOf(d.Process));
            Assert.False(File.Exists(d.SubnetFile));
        }
    }

    [Fact]
    public async Task EtcdSecurity_username_and_password()
    {
        await using var bed = await Testbed.CreateAsync();
        bed.Etcdctl(true, "put", Prefix + "/config", """{"Network":"10.63.0.0/16","Backend":{"Type":"host-gw"}}""");
        bed.Etcdctl(true, "user", "add", "root:pw");
        bed.Etcdctl(true, "user", "grant-role", "root", "root");
        bed.Etcdctl(true, "auth", "enable");
        Assert.NotEqual(0, bed.Etcdctl(false, "get", Prefix + "/config").ExitCode);
        string h1 = bed.AddHost(1);

        var good = StartDaemon(bed, h1, bed.EtcdEndpoint, "good", ["--etcd-username", "root", "--etcd-password", "pw"]);
        var env = await good.WaitForSubnetEnvAsync(bed);
        output.WriteLine(bed.LogOf(good.Process));
        Assert.Equal("10.63.0.0/16", env["FLANNEL_NETWORK"]);
        string lease = TestDaemon.NetworkOf(env["FLANNEL_SUBNET"]).Replace('/', '-');
        Assert.Contains("\"PublicIP\":\"198.51.100.1\"", bed.Etcdctl(true, "--user", "root:pw", "get", $"{Prefix}/subnets/{lease}").Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await good.StopAsync());

        var wrong = StartDaemon(bed, h1, bed.EtcdEndpoint, "wrongpw", ["--etcd-username", "root", "--etcd-password", "nope"]);
        var anonymous = StartDaemon(bed, h1, bed.EtcdEndpoint, "anonymous", []);
        string wrongLine = await WaitForLogLineAsync(bed, wrong, "Cannot read network config from etcd");
        output.WriteLine(wrongLine);
        Assert.Contains("authentication failed, invalid user ID or password", wrongLine, StringComparison.Ordinal);
        string anonymousLine = await WaitForLogLineAsync(bed, anonymous, "Cannot read network config from etcd");
        output.WriteLine(anonymousLine);
        Assert.Contains("user name is empty", anonymousLine, StringComparison.Ordinal);
        foreach (var d in new[] { wrong, anonymous })
        {
            Assert.False(d.Process.HasExited, "the daemon keeps retrying:\n" + bed.LogOf(d.Process));
            Assert.False(File.Exists(d.SubnetFile));
        }
    }

    private static TestDaemon StartDaemon(Testbed bed, string hostNs, string endpoint, string name, string[] extra)
    {
        string subnetFile = Path.Combine(bed.Directory, $"{hostNs}-{name}.env");
        var p = bed.Start(hostNs, FlanneldBinary.Path,
            ["--etcd-endpoints", endpoint, $"-etcd-prefix={Prefix}", "--iface=eth0", "--subnet-file", subnetFile, .. extra],
            TestDaemon.WithoutSystemBus(bed), logName: $"{hostNs}-flanneld-{name}");
        return new TestDaemon(p, subnetFile);
    }

    /// <summary>The first log line containing <paramref name="text"/>, which must appear within 30 s of the start.</summary>
    private static async Task<string> WaitForLogLineAsync(Testbed bed, TestDaemon d, string text)
    {
        string? found = null;
        var sw = Stopwatch.StartNew();
        await Wait.UntilAsync(() =>
        {
            found = bed.LogOf(d.Process).Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            return found is not null || d.Process.HasExited;
        }, ErrorWithin, $"\"{text}\" in the log:\n{bed.LogOf(d.Process)}");
        Assert.True(found is not null, $"flanneld exited without \"{text}\":\n{bed.LogOf(d.Process)}");
        Assert.True(sw.Elapsed < ErrorWithin, sw.Elapsed.ToString("c", CultureInfo.InvariantCulture));
        return found!;
    }
}

/// <summary>A CA, etcd's server certificate (SAN = the etcd address), a client certificate, and a second CA with its own client certificate, made with openssl.</summary>
internal sealed record TestPki(string Dir)
{
    public string CaCert => Path.Combine(Dir, "ca.pem");
    public string OtherCaCert => Path.Combine(Dir, "otherca.pem");
    public string ServerCert => Path.Combine(Dir, "server.pem");
    public string ServerKey => Path.Combine(Dir, "server.key");
    public string ClientCert => Path.Combine(Dir, "client.pem");
    public string ClientKey => Path.Combine(Dir, "client.key");
    public string RogueCert => Path.Combine(Dir, "rogue.pem");
    public string RogueKey => Path.Combine(Dir, "rogue.key");

    public static TestPki Create(string dir, string serverIp)
    {
        Directory.CreateDirectory(dir);
        var pki = new TestPki(dir);
        pki.Ca("ca");
        pki.Ca("otherca");
        pki.Leaf("server", "ca", $"IP:{serverIp}", "serverAuth");
        pki.Leaf("client", "ca", "DNS:flanneld", "clientAuth");
        pki.Leaf("rogue", "otherca", "DNS:flanneld", "clientAuth");
        return pki;
    }

    private string P(string name) => Path.Combine(Dir, name);

    private void Ca(string name) =>
        Command.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", P(name + ".key"), "-out", P(name + ".pem"),
            "-days", "2", "-subj", $"/CN=flannel-test-{name}");

    private void Leaf(string name, string ca, string san, string usage)
    {
        Command.Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", P(name + ".key"), "-out", P(name + ".csr"), "-subj", $"/CN={name}");
        File.WriteAllText(P(name + ".ext"), $"subjectAltName={san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n");
        Command.Run("openssl", "x509", "-req", "-in", P(name + ".csr"), "-CA", P(ca + ".pem"), "-CAkey", P(ca + ".key"), "-CAcreateserial",
            "-out", P(name + ".pem"), "-days", "2", "-extfile", P(name + ".ext"));
    }
}
