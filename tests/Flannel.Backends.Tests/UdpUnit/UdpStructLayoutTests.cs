using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flannel.Backends.Interop;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// The structs the udp pump hands to recvmmsg/sendmmsg/writev and the TUN ioctls, against the 64-bit Linux ABI
/// (x86_64 and arm64 agree): what gcc prints for sizeof/offsetof with &lt;sys/socket.h&gt;, &lt;sys/uio.h&gt;,
/// &lt;netinet/in.h&gt;, &lt;net/if.h&gt; and &lt;linux/virtio_net.h&gt;. A wrong offset here corrupts kernel reads silently.
/// </summary>
[Unit]
public unsafe class UdpStructLayoutTests
{
    [Fact]
    public void Iovec()
    {
        Assert.Equal(16, sizeof(iovec));
        Assert.Equal(16, Unsafe.SizeOf<iovec>());
        Assert.Equal(0, Offset<iovec>(nameof(iovec.iov_base)));
        Assert.Equal(8, Offset<iovec>(nameof(iovec.iov_len)));
    }

    [Fact]
    public void Msghdr()
    {
        Assert.Equal(56, sizeof(msghdr));
        Assert.Equal(0, Offset<msghdr>(nameof(msghdr.msg_name)));
        Assert.Equal(8, Offset<msghdr>(nameof(msghdr.msg_namelen)));
        Assert.Equal(16, Offset<msghdr>(nameof(msghdr.msg_iov)));
        Assert.Equal(24, Offset<msghdr>(nameof(msghdr.msg_iovlen)));
        Assert.Equal(32, Offset<msghdr>(nameof(msghdr.msg_control)));
        Assert.Equal(40, Offset<msghdr>(nameof(msghdr.msg_controllen)));
        Assert.Equal(48, Offset<msghdr>(nameof(msghdr.msg_flags)));
    }

    [Fact]
    public void Mmsghdr()
    {
        Assert.Equal(64, sizeof(mmsghdr));
        Assert.Equal(0, Offset<mmsghdr>(nameof(mmsghdr.msg_hdr)));
        Assert.Equal(56, Offset<mmsghdr>(nameof(mmsghdr.msg_len)));
    }

    [Fact]
    public void Cmsghdr()
    {
        Assert.Equal(16, sizeof(cmsghdr));
        Assert.Equal(0, Offset<cmsghdr>(nameof(cmsghdr.cmsg_len)));
        Assert.Equal(8, Offset<cmsghdr>(nameof(cmsghdr.cmsg_level)));
        Assert.Equal(12, Offset<cmsghdr>(nameof(cmsghdr.cmsg_type)));
        // CMSG_SPACE(sizeof(int)) = CMSG_ALIGN(16) + CMSG_ALIGN(4) = 24: what the batch reserves per message.
        Assert.Equal(24, LinuxUdp.CmsgSpaceInt);
    }

    [Fact]
    public void Sockaddr_in()
    {
        Assert.Equal(16, sizeof(sockaddr_in));
        Assert.Equal(0, Offset<sockaddr_in>(nameof(sockaddr_in.sin_family)));
        Assert.Equal(2, Offset<sockaddr_in>(nameof(sockaddr_in.sin_port)));
        Assert.Equal(4, Offset<sockaddr_in>(nameof(sockaddr_in.sin_addr)));
        Assert.Equal(8, Offset<sockaddr_in>(nameof(sockaddr_in.sin_zero)));
    }

    [Fact]
    public void Ifreq()
    {
        Assert.Equal(40, sizeof(ifreq));
        ifreq s = default;
        Assert.Equal(0, (int)((byte*)s.ifr_name - (byte*)&s));
        Assert.Equal(16, (int)((byte*)&s.ifr_flags - (byte*)&s));
    }

    [Fact]
    public void Virtio_net_hdr()
    {
        Assert.Equal(10, sizeof(virtio_net_hdr));
        Assert.Equal(0, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.flags)));
        Assert.Equal(1, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.gso_type)));
        Assert.Equal(2, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.hdr_len)));
        Assert.Equal(4, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.gso_size)));
        Assert.Equal(6, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.csum_start)));
        Assert.Equal(8, Offset<virtio_net_hdr>(nameof(virtio_net_hdr.csum_offset)));
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
