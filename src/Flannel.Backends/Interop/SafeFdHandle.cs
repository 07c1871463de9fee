using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Flannel.Backends.Interop;

/// <summary>
/// Owns one file descriptor and closes it exactly once. Raw calls go through <see cref="Borrow"/>, which holds a
/// reference for the duration of the call, so a concurrent Dispose cannot close (and the kernel reuse) the number
/// while a syscall still uses it.
/// </summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd)
        : this() => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public BorrowedFd Borrow() => new(this);

    /// <summary>
    /// Gives the descriptor away (to a <see cref="System.Net.Sockets.SafeSocketHandle"/>): this handle no longer
    /// closes it.
    /// </summary>
    public int TransferOwnership()
    {
        int fd = (int)handle;
        SetHandleAsInvalid();
        return fd;
    }

    // close(2) releases the descriptor even when it fails (EINTR included), so it must never be retried.
    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
