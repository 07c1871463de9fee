using Flannel.Daemon.Rules;

namespace Flannel.Daemon.Tests.Rules;

[Unit]
public sealed class RulesLockTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"flannel-rules-lock-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public async Task A_second_holder_waits_for_the_first_and_sees_its_writes_counted()
    {
        var rulesLock = new RulesLock(_path);
        long before;
        var first = rulesLock.Acquire();
        before = first.Generation;
        Assert.Equal(0, before); // a new lock file: no writes counted yet (-1 would be no lock at all)
        var second = Task.Run(() =>
        {
            using var held = new RulesLock(_path).Acquire();
            return held.Generation;
        });
        await Task.Delay(200);
        Assert.False(second.IsCompleted, "the second holder got the lock while the first held it");
        first.Wrote();
        first.Wrote();
        first.Dispose();
        Assert.Equal(before + 2, await second.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Without_a_lock_file_the_rules_are_still_written_and_no_read_ahead_counts_as_current()
    {
        using var held = new RulesLock("/nonexistent-dir-for-flannel-tests/x.lock").Acquire();
        Assert.Equal(-1, held.Generation);
        held.Wrote();
        Assert.Equal(-1, held.Generation);
    }
}
