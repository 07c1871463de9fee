using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>The addresses of one family of every link, or of one (<c>ip -4 addr show [dev]</c>, <c>ip -6 ...</c>).</summary>
    public IReadOnlyList<AddressInfo> ListAddresses(int? linkIndex = null, IpFamily family = IpFamily.Ip4)
    {
        // Filtered here: the kernel filters address dumps by ifa_index only with NETLINK_GET_STRICT_CHK, which would
        // also make it reject the loosely filled headers older code sends.
        var all = Dump<AddressInfo>(RtnetlinkRequests.DumpAddresses(family), "list addresses", RtnetlinkMessages.TryReadAddress);
        return linkIndex is { } index ? all.FindAll(a => a.LinkIndex == index) : all;
    }

    /// <summary><c>ip addr add address dev #linkIndex</c>; EEXIST when the link already has it.</summary>
    public void AddAddress(int linkIndex, IpNetwork address) =>
        Request(
            RtnetlinkRequests.Address(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, linkIndex, address),
            $"add address {address} dev #{linkIndex}");

    /// <summary><c>ip addr del address dev #linkIndex</c>; EADDRNOTAVAIL when the link does not have it.</summary>
    public void DeleteAddress(int linkIndex, IpNetwork address) =>
        Request(RtnetlinkRequests.Address(RTM_DELADDR, 0, linkIndex, address), $"delete address {address} dev #{linkIndex}");
}
