using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Flannel.Daemon.EnvFiles;

namespace Flannel.Daemon.Tests;

/// <summary>
/// A reader of subnet.env or dockerd's options never sees them half-written: while one thread rewrites the file
/// thousands of times, alternating two different contents, every read of another thread is one of the two, whole.
/// </summary>
[SupportedOSPlatform("linux")]
[Unit]
public sealed class AtomicFileConcurrencyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_reader_sees_only_whole_contents_while_the_file_is_rewritten()
    {
        string path = _dir.File("subnet.env");
        const string small = "FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.88.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
        // Larger than one page and one write buffer, so a torn write would show as a prefix or a mix.
        var sb = new StringBuilder();
        for (int i = 0; i < 400; i++)
        {
            sb.Append("DOCKER_OPT_").Append(i).Append("=\"--bip=10.6.").Append(i % 256).Append(".1/24\"\n");
        }
        string large = sb.ToString();
        Assert.True(Encoding.UTF8.GetByteCount(large) > 8192);
        AtomicFile.Write(path, small);

        using var stop = new CancellationTokenSource();
        int writes = 0;
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                AtomicFile.Write(path, Volatile.Read(ref writes) % 2 == 0 ? large : small);
                Interlocked.Increment(ref writes);
            }
        });
        int reads = 0, sawSmall = 0, sawLarge = 0;
        var sw = Stopwatch.StartNew();
        try
        {
            while (sw.Elapsed < TimeSpan.FromSeconds(3) || Volatile.Read(ref writes) < 1000 || reads < 2000)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"too slow: {writes} writes, {reads} reads");
                string seen = File.ReadAllText(path);
                if (seen == small)
                {
                    sawSmall++;
                }
                else if (seen == large)
                {
                    sawLarge++;
                }
                else
                {
                    Assert.Fail($"read {reads + 1} saw a partial file ({seen.Length} chars, after {writes} writes)");
                }
                reads++;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
        Assert.True(sawSmall > 0 && sawLarge > 0, $"both contents seen: {sawSmall} small, {sawLarge} large of {reads} reads");
        Assert.Equal(["subnet.env"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        Assert.Equal(AtomicFile.FileMode, File.GetUnixFileMode(path));
    }
}
