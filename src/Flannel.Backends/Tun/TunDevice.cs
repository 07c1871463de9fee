using System.Text;
using Flannel.Backends.Interop;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxTun;

namespace Flannel.Backends.Tun;

/// <summary>
/// A TUN device opened from /dev/net/tun: IFF_TUN|IFF_NO_PI like flanneld, plus IFF_VNET_HDR with TSO offloads when the
/// kernel accepts them (each read can then be a 64 KB TCP super-packet) and IFF_MULTI_QUEUE for one queue per pump
/// thread. The device lives as long as its queues are open (not persistent, like flanneld's flannel0).
/// </summary>
internal sealed class TunDevice : IDisposable
{
    private readonly SafeFdHandle[] _queues;

    private TunDevice(string name, SafeFdHandle[] queues, bool vnetHeader, bool tso)
    {
        Name = name;
        _queues = queues;
        VnetHeader = vnetHeader;
        Tso = tso;
    }

    public string Name { get; }

    /// <summary>Every read and write carries a 10-byte virtio_net_hdr.</summary>
    public bool VnetHeader { get; }

    /// <summary>The kernel may hand over TCPv4 super-packets (TUNSETOFFLOAD CSUM|TSO4|TSO6 accepted).</summary>
    public bool Tso { get; }

    public int QueueCount => _queues.Length;

    internal SafeFdHandle Queue(int index) => _queues[index];

    /// <summary>
    /// Creates the device. <paramref name="name"/> may be a template such as "flannel%d"; the kernel picks the number.
    /// With <paramref name="offloads"/> it tries IFF_VNET_HDR + TSO and falls back to plain reads when refused.
    /// </summary>
    /// <exception cref="LinuxException">The device cannot be created (no /dev/net/tun, no CAP_NET_ADMIN, name taken).</exception>
    public static TunDevice Open(string name, int queues = 1, bool offloads = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        short flags = IFF_TUN | IFF_NO_PI;
        if (queues > 1)
        {
            flags |= IFF_MULTI_QUEUE;
        }
        if (offloads)
        {
            try
            {
                return Create(name, queues, (short)(flags | IFF_VNET_HDR), tryTso: true);
            }
            catch (LinuxException)
            {
                // A kernel without vnet headers on TUN (all of them have had it since 2.6.x, but containers may filter
                // the ioctl): fall through to plain packets.
            }
        }
        return Create(name, queues, flags, tryTso: false);
    }

    private static unsafe TunDevice Create(string template, int queueCount, short flags, bool tryTso)
    {
        var queues = new List<SafeFdHandle>(queueCount);
        string name = template;
        try
        {
            for (int q = 0; q < queueCount; q++)
            {
                // Every queue must be opened with the same flags; the first open fixes the device's (kernel tun.c).
                queues.Add(OpenQueue(q == 0 ? template : name, flags, out name));
            }
            bool vnet = (flags & IFF_VNET_HDR) != 0;
            bool tso = false;
            if (tryTso)
            {
                using var fd = queues[0].Borrow();
                // All-or-nothing mask; TSO_ECN left out so the kernel segments CWR packets itself (as wireguard-go).
                tso = LinuxTun.ioctl(fd.Value, TUNSETOFFLOAD, (void*)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0;
            }
            return new TunDevice(name, [.. queues], vnet, tso);
        }
        catch
        {
            foreach (var q in queues)
            {
                q.Dispose();
            }
            throw;
        }
    }

    private static unsafe SafeFdHandle OpenQueue(string name, short flags, out string actualName)
    {
        int fd;
        fixed (byte* path = "/dev/net/tun\0"u8)
        {
            fd = LinuxException.ThrowIfFailed(LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NONBLOCK), "open /dev/net/tun");
        }
        var handle = new SafeFdHandle(fd);
        try
        {
            ifreq req = default;
            byte[] bytes = Encoding.ASCII.GetBytes(name);
            if (bytes.Length >= IFNAMSIZ)
            {
                throw new ArgumentException($"device name {name} is longer than {IFNAMSIZ - 1} bytes", nameof(name));
            }
            bytes.CopyTo(new Span<byte>(req.ifr_name, IFNAMSIZ));
            req.ifr_flags = flags;
            LinuxException.ThrowIfFailed(LinuxTun.ioctl(fd, TUNSETIFF, &req), $"TUNSETIFF {name}");
            var written = new ReadOnlySpan<byte>(req.ifr_name, IFNAMSIZ);
            int end = written.IndexOf((byte)0);
            actualName = Encoding.ASCII.GetString(end < 0 ? written : written[..end]);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var q in _queues)
        {
            q.Dispose();
        }
    }
}
