using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>The wait of every pump thread: poll(2) on its descriptor and the stop eventfd.</summary>
internal static unsafe class PumpPoll
{
    private const short Failure = 0x008 | 0x010 | 0x020; // POLLERR | POLLHUP | POLLNVAL

    /// <summary>Blocks until <paramref name="fd"/> is readable, fails, or the stop event fires (which wins).</summary>
    public static PumpWake Wait(int fd, int stopFd)
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
        return Classify(fds[0].revents, fds[1].revents);
    }

    /// <summary>The decision alone: the stop event first, then any failure bit, then data.</summary>
    public static PumpWake Classify(short revents, short stopRevents) =>
        stopRevents != 0 ? PumpWake.Stop
        : (revents & Failure) != 0 ? PumpWake.Error
        : PumpWake.Readable;
}
