using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>The TUN's virtio_net_hdr is little-endian (no TUNSETVNETBE); the ECN bit is not part of the GSO type.</summary>
[Unit]
public class VirtioNetHeaderTests
{
    [Fact]
    public void Read_takes_little_endian_fields()
    {
        var h = VirtioNetHeader.Read(TestPacket.Frame([], 1, 0x81, 0x0134, 0x0578, 0x0014, 0x0010));
        Assert.Equal(new VirtioNetHeader(1, 0x81, 0x0134, 0x0578, 20, 16), h);
        Assert.True(h.NeedsChecksum);
        Assert.Equal(1, h.Gso);
    }

    [Fact]
    public void Zero_header_is_plain()
    {
        var h = VirtioNetHeader.Read(new byte[10]);
        Assert.False(h.NeedsChecksum);
        Assert.Equal(0, h.Gso);
        Assert.Equal(10, VirtioNetHeader.Length);
    }
}
