using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flannel.Daemon.Tests.EndToEnd;

/// <summary>
/// The published flanneld rewrites subnet.env and dockerd's options each time it re-acquires its lease (here: an
/// operator deletes the lease key again and again); a reader polling both files in a tight loop meanwhile never sees
/// one missing or half-written. The files are mode 0644 and owned by root.
/// </summary>
[NeedsRoot, NeedsEtcd]
public sealed partial class EnvFileRewriteEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Subnet_env_and_docker_options_are_never_seen_half_written_while_the_daemon_rewrites_them()
    {
        await using var bed = await Testbed.CreateAsync();
        const string prefix = "/rewrite/network";
        bed.Etcdctl(true, "put", prefix + "/config", """{"Network":"10.64.0.0/16","Backend":{"Type":"host-gw"}}""");
        string h1 = bed.AddHost(1);
        string dockerOpts = Path.Combine(bed.Directory, "h1.docker");
        var d = TestDaemon.Start(bed, h1, prefix, ["--docker-opts-file", dockerOpts]);
        var env = await d.WaitForSubnetEnvAsync(bed);
        await Wait.UntilAsync(() => File.Exists(dockerOpts), TimeSpan.FromSeconds(10), "docker options written");
        string subnetEnv = File.ReadAllText(d.SubnetFile), docker = File.ReadAllText(dockerOpts);
        string key = $"{prefix}/subnets/{TestDaemon.NetworkOf(env["FLANNEL_SUBNET"]).Replace('/', '-')}";

        using var stop = new CancellationTokenSource();
        long reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // The same subnet is re-acquired, so every rewrite has the same content: anything else is a torn read.
                string a = File.ReadAllText(d.SubnetFile), b = File.ReadAllText(dockerOpts);
                Assert.True(a == subnetEnv, $"subnet.env read {reads}: {a}");
                Assert.True(b == docker, $"docker options read {reads}: {b}");
                Interlocked.Increment(ref reads);
            }
        });
        const int rewrites = 5;
        var sw = Stopwatch.StartNew();
        try
        {
            for (int i = 1; i <= rewrites; i++)
            {
                bed.Etcdctl(true, "del", key);
                int expected = i;
                await Wait.UntilAsync(() => reader.IsCompleted || ReacquiredCount(bed.LogOf(d.Process)) >= expected,
                    TimeSpan.FromSeconds(15), $"re-acquisition {i}:\n{bed.LogOf(d.Process)}");
                Assert.False(reader.IsCompleted, "the reader stopped early");
            }
            // Keep reading a little after the last rewrite.
            await Task.Delay(500);
        }
        finally
        {
            await stop.CancelAsync();
        }
        await reader; // rethrows a torn read
        output.WriteLine($"{rewrites} rewrites in {sw.ElapsedMilliseconds} ms, {Interlocked.Read(ref reads)} reads of both files");
        Assert.True(Interlocked.Read(ref reads) > 1000, $"only {reads} reads");
        Assert.True(WroteCount(bed.LogOf(d.Process)) >= rewrites + 1, bed.LogOf(d.Process));
        foreach (var f in new[] { d.SubnetFile, dockerOpts })
        {
            Assert.Equal("644 root:root", Command.Run("stat", "-c", "%a %U:%G", f).Trim());
        }
        Assert.Empty(Directory.GetFiles(bed.Directory, ".*.tmp"));
        Assert.Equal(0, await d.StopAsync());
    }

    private static int ReacquiredCount(string log) => ReacquiredLine().Count(log);

    private static int WroteCount(string log) => WroteLine().Count(log);

    [GeneratedRegex("Re-acquired lease as ")]
    private static partial Regex ReacquiredLine();

    [GeneratedRegex(@"INF Wrote \S+\.env")]
    private static partial Regex WroteLine();
}
