namespace Flannel.Backends.Interop;

/// <summary>A descriptor kept open until disposed; use with <c>using</c> around a raw syscall.</summary>
internal readonly ref struct BorrowedFd
{
    private readonly SafeFdHandle _owner;

    public BorrowedFd(SafeFdHandle owner)
    {
        bool added = false;
        owner.DangerousAddRef(ref added);
        _owner = owner;
        Value = (int)owner.DangerousGetHandle();
    }

    public int Value { get; }

    public void Dispose() => _owner.DangerousRelease();
}
