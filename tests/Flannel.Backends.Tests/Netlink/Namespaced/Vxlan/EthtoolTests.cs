using Flannel.Backends.Interop;

namespace Flannel.Backends.Tests.Netlink.Namespaced.Vxlan;

[NeedsRoot]
public class EthtoolTests
{
    [Fact]
    public void Turns_tx_checksumming_of_a_vxlan_off_and_on()
    {
        using var bed = VxlanBed.Create();

        var states = bed.Bed.Ns.Run(() =>
        {
            bool initial = Ethtool.GetTxChecksum(VxlanBed.Name);
            Ethtool.SetTxChecksum(VxlanBed.Name, false);
            bool off = Ethtool.GetTxChecksum(VxlanBed.Name);
            Ethtool.SetTxChecksum(VxlanBed.Name, true);
            bool on = Ethtool.GetTxChecksum(VxlanBed.Name);
            return (initial, off, on);
        });

        Assert.Equal((true, false, true), states);
    }

    [Fact]
    public void A_missing_link_is_ENODEV_and_a_bad_name_is_an_ArgumentException()
    {
        using var bed = NamespaceBed.Create();

        var e = bed.Ns.Run(() => Assert.Throws<LinuxException>(() => Ethtool.GetTxChecksum("flannel.1")));

        Assert.Equal(19, e.Errno);
        Assert.Contains("\"flannel.1\"", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Ethtool.SetTxChecksum("a-name-over-15-bytes", false));
        Assert.Throws<ArgumentException>(() => Ethtool.GetTxChecksum(""));
    }
}
