using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Flannel.Backends.Interop;

// One file per kernel header: the calls and the C structs they pass stay together, as in the header.
#pragma warning disable CS8981 // lower-case type names are the C names on purpose

/// <summary>
/// The legacy SIOCETHTOOL ioctl for the one offload flannel touches: TX checksumming (<c>ethtool -K DEV tx off</c>),
/// which its vxlan backend can turn off on the vxlan device. Calls act on the link of that name in the calling
/// thread's network namespace (the ioctl's socket is opened per call, on that thread).
/// </summary>
internal static unsafe class Ethtool
{
    /// <summary>The ethtool socket ioctl (include/uapi/linux/sockios.h); the command is in ethtool_value.cmd.</summary>
    internal const nuint SIOCETHTOOL = 0x8946;

    /// <summary>Get / set TX checksumming (include/uapi/linux/ethtool.h).</summary>
    internal const uint ETHTOOL_GTXCSUM = 0x16;
    internal const uint ETHTOOL_STXCSUM = 0x17;

    /// <summary>Whether TX checksum offload is on (<c>ethtool -k DEV</c>: tx-checksumming).</summary>
    /// <exception cref="LinuxException">No such link (ENODEV), or the ioctl failed.</exception>
    /// <exception cref="ArgumentException">The name is empty or longer than 15 bytes.</exception>
    public static bool GetTxChecksum(string ifname)
    {
        var value = new ethtool_value { cmd = ETHTOOL_GTXCSUM };
        Call(ifname, &value, $"ethtool get tx-checksumming of \"{ifname}\"");
        return value.data != 0;
    }

    /// <summary>Turns TX checksum offload on or off (<c>ethtool -K DEV tx on|off</c>).</summary>
    /// <exception cref="LinuxException">No such link (ENODEV), the driver cannot change it (EOPNOTSUPP), not
    /// permitted (EPERM), or the ioctl failed.</exception>
    /// <exception cref="ArgumentException">The name is empty or longer than 15 bytes.</exception>
    public static void SetTxChecksum(string ifname, bool enabled)
    {
        var value = new ethtool_value { cmd = ETHTOOL_STXCSUM, data = enabled ? 1u : 0u };
        Call(ifname, &value, $"ethtool set tx-checksumming of \"{ifname}\" {(enabled ? "on" : "off")}");
    }

    private static void Call(string ifname, ethtool_value* value, string operation)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifname);
        int nameLength = Encoding.UTF8.GetByteCount(ifname);
        if (nameLength >= LinuxTun.IFNAMSIZ)
        {
            throw new ArgumentException($"link name \"{ifname}\" is longer than {LinuxTun.IFNAMSIZ - 1} bytes", nameof(ifname));
        }
        var request = new ifreq_data { ifr_data = value };
        Encoding.UTF8.GetBytes(ifname, new Span<byte>(request.ifr_name, LinuxTun.IFNAMSIZ - 1));
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new LinuxException($"{operation}: socket(AF_INET, SOCK_DGRAM)", LibC.errno);
        }
        using var handle = new SafeFdHandle(fd);
        using var borrowed = handle.Borrow();
        LinuxException.ThrowIfFailed(LinuxTun.ioctl(borrowed.Value, SIOCETHTOOL, &request), operation);
    }
}

/// <summary><c>struct ethtool_value</c>: a command and one u32 of data (the legacy get/set-one-setting form).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ethtool_value
{
    public uint cmd;
    public uint data;
}

/// <summary>
/// <c>struct ifreq</c> as SIOCETHTOOL uses it: the name and the <c>ifr_data</c> pointer of the union (offset 16);
/// 40 bytes on 64-bit. See <see cref="ifreq"/> for the TUNSETIFF (flags) form.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct ifreq_data
{
    [FieldOffset(0)]
    public fixed byte ifr_name[LinuxTun.IFNAMSIZ];

    [FieldOffset(16)]
    public void* ifr_data;
}
