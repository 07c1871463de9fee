using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using Flannel.Subnet.Ip;
using static Flannel.Backends.Interop.LinuxUdp;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>The pump's UDP socket: bound to the interface address and the backend port, as flanneld binds it.</summary>
internal static unsafe class UdpSocket
{
    // wireguard-go's figure (conn/controlfns_linux.go): 7 MB buffers turned retransmits 2742 -> 0 at 4-5 Gbit/s.
    private const int BufferBytes = 7 << 20;

    /// <summary>Opens and binds the socket; UDP_GRO on when the kernel handles it well (see <see cref="GroUsable"/>).</summary>
    /// <exception cref="LinuxException">socket or bind failed (port in use, address not on this host).</exception>
    public static SafeFdHandle Open(Ip4Address address, ushort port, out bool gro)
    {
        int fd = LinuxException.ThrowIfFailed(LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), "socket");
        var handle = new SafeFdHandle(fd);
        try
        {
            SetBuffer(fd, LibC.SO_RCVBUF, LibC.SO_RCVBUFFORCE);
            SetBuffer(fd, LibC.SO_SNDBUF, LibC.SO_SNDBUFFORCE);
            gro = GroUsable(Environment.OSVersion.Version) && SetInt(fd, SOL_UDP, UDP_GRO, 1);
            var name = new sockaddr_in
            {
                sin_family = (ushort)LibC.AF_INET,
                sin_port = (ushort)((port >> 8) | (port << 8)),
                sin_addr = BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(address.Value) : address.Value,
            };
            if (LibC.bind(fd, (Tmds.Linux.sockaddr*)&name, (uint)sizeof(sockaddr_in)) < 0)
            {
                throw new LinuxException($"bind {address}:{port}", Marshal.GetLastPInvokeError());
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// UDP_GRO only from 5.12: earlier kernels had no getsockopt for it and coalesced unevenly (wireguard-go disables it
    /// below 5.12 for that reason; kernel commit 98184612aca0).
    /// </summary>
    public static bool GroUsable(Version kernel) => kernel >= new Version(5, 12);

    private static void SetBuffer(int fd, int option, int forceOption)
    {
        // The FORCE variants pass net.core.{r,w}mem_max and need CAP_NET_ADMIN, which the daemon has; the plain ones
        // are the fallback.
        if (!SetInt(fd, LibC.SOL_SOCKET, forceOption, BufferBytes))
        {
            SetInt(fd, LibC.SOL_SOCKET, option, BufferBytes);
        }
    }

    private static bool SetInt(int fd, int level, int option, int value) => LibC.setsockopt(fd, level, option, &value, sizeof(int)) == 0;
}
