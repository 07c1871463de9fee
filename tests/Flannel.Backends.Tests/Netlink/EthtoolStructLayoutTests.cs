using Flannel.Backends.Interop;

namespace Flannel.Backends.Tests.Netlink;

/// <summary>
/// The SIOCETHTOOL structs against the C ABI (&lt;linux/ethtool.h&gt;, &lt;net/if.h&gt; on x86_64 / arm64: 8-byte
/// pointers, so ifr_data sits at 16 and the union pads ifreq to 40).
/// </summary>
[Unit]
public unsafe class EthtoolStructLayoutTests
{
    [Fact]
    public void Ethtool_value()
    {
        ethtool_value s = default;
        Assert.Equal(8, sizeof(ethtool_value));
        Assert.Equal(0, Offset(&s, &s.cmd));
        Assert.Equal(4, Offset(&s, &s.data));
    }

    [Fact]
    public void Ifreq_data()
    {
        ifreq_data s = default;
        Assert.Equal(40, sizeof(ifreq_data));
        Assert.Equal(0, (int)((byte*)s.ifr_name - (byte*)&s));
        Assert.Equal(16, (int)((byte*)&s.ifr_data - (byte*)&s));
        Assert.Equal(sizeof(ifreq), sizeof(ifreq_data));
    }

    private static int Offset<TStruct, TField>(TStruct* start, TField* field)
        where TStruct : unmanaged
        where TField : unmanaged => (int)((byte*)field - (byte*)start);
}
