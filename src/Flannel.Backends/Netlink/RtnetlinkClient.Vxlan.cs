using Flannel.Backends.Vxlan;
using Tmds.Linux;

namespace Flannel.Backends.Netlink;

public sealed partial class RtnetlinkClient
{
    /// <summary>
    /// <c>ip link add NAME [address MAC] [mtu MTU] type vxlan id VNI local LOCAL dev PARENT [dstport PORT]
    /// [no]learning [gbp]</c>; the link is left down. Returns its index.
    /// </summary>
    /// <exception cref="NetlinkException">EEXIST when a link of that name exists (of any kind); EINVAL / ERANGE with
    /// the kernel's reason for a bad spec.</exception>
    /// <exception cref="ArgumentException">The name is empty or too long, or the VNI does not fit 24 bits.</exception>
    public int CreateVxlan(VxlanSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateLinkName(spec.Name);
        if (spec.Vni >= 1u << 24)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Vni, "a VNI has 24 bits");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(spec.Mtu);
        Request(RtnetlinkRequests.CreateVxlan(spec), $"create vxlan \"{spec.Name}\" id {spec.Vni}");
        return GetLinkIndex(spec.Name);
    }

    /// <summary>The vxlan link called <paramref name="name"/>; null when there is no such link or it is not a vxlan
    /// (<see cref="GetLink(string)"/> tells which).</summary>
    public VxlanInfo? GetVxlan(string name)
    {
        ValidateLinkName(name);
        VxlanInfo? found = null;
        try
        {
            Request(RtnetlinkRequests.GetLink(0, name), $"get link \"{name}\"", message =>
            {
                if (RtnetlinkMessages.TryReadVxlan(message, out var vxlan))
                {
                    found = vxlan;
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == LibC.ENODEV)
        {
            return null;
        }
        return found;
    }

    /// <summary><c>ip link del dev #index</c> (any kind of link); ENODEV when there is none.</summary>
    public void DeleteLink(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        Request(RtnetlinkRequests.DeleteLink(index), $"delete link #{index}");
    }
}
