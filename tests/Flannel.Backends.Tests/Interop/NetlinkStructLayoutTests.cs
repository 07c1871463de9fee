using Flannel.Backends.Interop;

namespace Flannel.Backends.Tests.Interop;

/// <summary>
/// Sizes and offsets against the C ABI: the expected values are what gcc prints for sizeof/offsetof with
/// &lt;linux/netlink.h&gt;, &lt;linux/rtnetlink.h&gt; and &lt;linux/neighbour.h&gt; (the same on x86_64 and arm64: no
/// pointer-sized fields).
/// </summary>
[Unit]
public unsafe class NetlinkStructLayoutTests
{
    [Fact]
    public void Sockaddr_nl()
    {
        sockaddr_nl s = default;
        Assert.Equal(12, sizeof(sockaddr_nl));
        Assert.Equal(0, Offset(&s, &s.nl_family));
        Assert.Equal(2, Offset(&s, &s.nl_pad));
        Assert.Equal(4, Offset(&s, &s.nl_pid));
        Assert.Equal(8, Offset(&s, &s.nl_groups));
    }

    [Fact]
    public void Nlmsghdr()
    {
        nlmsghdr s = default;
        Assert.Equal(16, sizeof(nlmsghdr));
        Assert.Equal(0, Offset(&s, &s.nlmsg_len));
        Assert.Equal(4, Offset(&s, &s.nlmsg_type));
        Assert.Equal(6, Offset(&s, &s.nlmsg_flags));
        Assert.Equal(8, Offset(&s, &s.nlmsg_seq));
        Assert.Equal(12, Offset(&s, &s.nlmsg_pid));
    }

    [Fact]
    public void Nlmsgerr()
    {
        nlmsgerr s = default;
        Assert.Equal(20, sizeof(nlmsgerr));
        Assert.Equal(0, Offset(&s, &s.error));
        Assert.Equal(4, Offset(&s, &s.msg));
    }

    [Fact]
    public void Nlattr_and_rtattr()
    {
        nlattr n = default;
        Assert.Equal(4, sizeof(nlattr));
        Assert.Equal(0, Offset(&n, &n.nla_len));
        Assert.Equal(2, Offset(&n, &n.nla_type));
        rtattr r = default;
        Assert.Equal(4, sizeof(rtattr));
        Assert.Equal(0, Offset(&r, &r.rta_len));
        Assert.Equal(2, Offset(&r, &r.rta_type));
    }

    [Fact]
    public void Rtmsg()
    {
        rtmsg s = default;
        Assert.Equal(12, sizeof(rtmsg));
        Assert.Equal(0, Offset(&s, &s.rtm_family));
        Assert.Equal(1, Offset(&s, &s.rtm_dst_len));
        Assert.Equal(2, Offset(&s, &s.rtm_src_len));
        Assert.Equal(3, Offset(&s, &s.rtm_tos));
        Assert.Equal(4, Offset(&s, &s.rtm_table));
        Assert.Equal(5, Offset(&s, &s.rtm_protocol));
        Assert.Equal(6, Offset(&s, &s.rtm_scope));
        Assert.Equal(7, Offset(&s, &s.rtm_type));
        Assert.Equal(8, Offset(&s, &s.rtm_flags));
    }

    [Fact]
    public void Ifinfomsg()
    {
        ifinfomsg s = default;
        Assert.Equal(16, sizeof(ifinfomsg));
        Assert.Equal(0, Offset(&s, &s.ifi_family));
        Assert.Equal(1, Offset(&s, &s.__ifi_pad));
        Assert.Equal(2, Offset(&s, &s.ifi_type));
        Assert.Equal(4, Offset(&s, &s.ifi_index));
        Assert.Equal(8, Offset(&s, &s.ifi_flags));
        Assert.Equal(12, Offset(&s, &s.ifi_change));
    }

    [Fact]
    public void Ifaddrmsg()
    {
        ifaddrmsg s = default;
        Assert.Equal(8, sizeof(ifaddrmsg));
        Assert.Equal(0, Offset(&s, &s.ifa_family));
        Assert.Equal(1, Offset(&s, &s.ifa_prefixlen));
        Assert.Equal(2, Offset(&s, &s.ifa_flags));
        Assert.Equal(3, Offset(&s, &s.ifa_scope));
        Assert.Equal(4, Offset(&s, &s.ifa_index));
    }

    [Fact]
    public void Ndmsg()
    {
        ndmsg s = default;
        Assert.Equal(12, sizeof(ndmsg));
        Assert.Equal(0, Offset(&s, &s.ndm_family));
        Assert.Equal(1, Offset(&s, &s.ndm_pad1));
        Assert.Equal(2, Offset(&s, &s.ndm_pad2));
        Assert.Equal(4, Offset(&s, &s.ndm_ifindex));
        Assert.Equal(8, Offset(&s, &s.ndm_state));
        Assert.Equal(10, Offset(&s, &s.ndm_flags));
        Assert.Equal(11, Offset(&s, &s.ndm_type));
    }

    private static int Offset<TStruct, TField>(TStruct* start, TField* field)
        where TStruct : unmanaged
        where TField : unmanaged => (int)((byte*)field - (byte*)start);
}
