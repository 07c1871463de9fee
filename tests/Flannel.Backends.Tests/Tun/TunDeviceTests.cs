using Flannel.Backends.Interop;
using Flannel.Backends.Tun;

namespace Flannel.Backends.Tests.Tun;

/// <summary>Real TUN devices, created inside a test namespace (root).</summary>
[NeedsRoot]
public class TunDeviceTests
{
    [Fact]
    public void Creates_flannel0_from_the_template_with_vnet_header_and_tso_and_removes_it_on_dispose()
    {
        using var ns = NetNs.Create();
        ns.Run(() =>
        {
            using (var tun = TunDevice.Open("flannel%d"))
            {
                Assert.Equal("flannel0", tun.Name);
                Assert.True(tun.VnetHeader);
                Assert.True(tun.Tso, "TUNSETOFFLOAD CSUM|TSO4|TSO6 accepted on this kernel");
                Assert.Equal(1, tun.QueueCount);
                Assert.Contains("flannel0", ns.Ip("-d", "link", "show", "flannel0"), StringComparison.Ordinal);
                Assert.Contains("tun type tun", ns.Ip("-d", "link", "show", "flannel0"), StringComparison.Ordinal);
            }
            // Not persistent, like flanneld's: closing the queues removes the device.
            Assert.DoesNotContain("flannel0", ns.Ip("link", "show"), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Opens_one_descriptor_per_queue_on_one_multi_queue_device()
    {
        using var ns = NetNs.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Open("fq%d", queues: 3);
            Assert.Equal("fq0", tun.Name);
            Assert.Equal(3, tun.QueueCount);
            Assert.Contains("multi_queue", ns.Ip("-d", "link", "show", "fq0"), StringComparison.Ordinal);
            Assert.Equal(3, Enumerable.Range(0, 3).Select(q => tun.Queue(q).DangerousGetHandle()).Distinct().Count());
        });
    }

    [Fact]
    public void A_second_device_with_a_taken_name_fails_with_the_kernels_errno()
    {
        using var ns = NetNs.Create();
        ns.Run(() =>
        {
            using var first = TunDevice.Open("taken0", offloads: false);
            Assert.False(first.VnetHeader);
            // Same name, different flags (vnet header): the kernel refuses to attach (EINVAL), named in the message.
            var e = Assert.Throws<LinuxException>(() => TunDevice.Open("taken0", offloads: false, queues: 2));
            Assert.Contains("TUNSETIFF taken0", e.Message, StringComparison.Ordinal);
            Assert.NotEqual(0, e.Errno);
        });
    }
}
