using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>The wait of every pump thread: poll(2) on its descriptor and the stop eventfd.</summary>
internal static unsafe class PumpPoll
{
    /// <summary>Blocks until <paramref name="fd"/> is readable; false once the stop event fired.</summary>
    public static bool Wait(int fd, int stopFd)
    {
        var fds = stackalloc Tmds.Linux.pollfd[2];
        fds[0].fd = fd;
        fds[0].events = LibC.POLLIN;
        fds[1].fd = stopFd;
        fds[1].events = LibC.POLLIN;
        while (LibC.poll(fds, 2, -1) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.EINTR)
            {
                throw new LinuxException("poll", errno);
            }
        }
        return fds[1].revents == 0;
    }
}
