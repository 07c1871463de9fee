using System.Runtime.InteropServices;

namespace Flannel.Backends.Interop;

/// <summary>A system call of the control plane failed; the message names the call and the kernel's errno text.</summary>
internal sealed class LinuxException : IOException
{
    public LinuxException() { }

    public LinuxException(string message) : base(message) { }

    public LinuxException(string message, Exception innerException) : base(message, innerException) { }

    public LinuxException(string operation, int errno)
        : base($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Operation = operation;
        Errno = errno;
    }

    public string? Operation { get; }

    public int Errno { get; }

    /// <summary>Throws with the current errno when <paramref name="result"/> is negative.</summary>
    public static int ThrowIfFailed(int result, string operation) =>
        result >= 0 ? result : throw new LinuxException(operation, Marshal.GetLastPInvokeError());
}
