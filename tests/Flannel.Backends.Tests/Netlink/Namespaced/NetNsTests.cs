namespace Flannel.Backends.Tests.Netlink.Namespaced;

/// <summary>The test helper itself: isolation is what keeps these tests off the host's network.</summary>
[NeedsRoot]
public class NetNsTests
{
    [Fact]
    public void Run_executes_on_a_thread_inside_the_namespace_and_Dispose_deletes_it()
    {
        string name;
        using (var ns = NetNs.Create())
        {
            name = ns.Name;
            string inside = ns.Run(() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!);
            string host = new FileInfo("/proc/thread-self/ns/net").LinkTarget!;
            string viaExec = ns.Exec("readlink", "/proc/self/ns/net").Trim();

            Assert.StartsWith("fcs-", name, StringComparison.Ordinal);
            Assert.NotEqual(host, inside);
            Assert.Equal(viaExec, inside);
            Assert.Contains(name, Command.Run("ip", "netns", "list"), StringComparison.Ordinal);
        }
        Assert.DoesNotContain(name, Command.Run("ip", "netns", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_passes_exceptions_through_and_names_are_unique()
    {
        using var a = NetNs.Create();
        using var b = NetNs.Create();

        Assert.NotEqual(a.Name, b.Name);
        var e = Assert.Throws<InvalidOperationException>(() => a.Run(() => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
    }
}
