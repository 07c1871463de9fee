namespace Flannel.Subnet.Leases;

/// <summary>A lease value that cannot be decoded; such a lease is skipped with a warning.</summary>
internal sealed class LeaseDecodeException : Exception
{
    public LeaseDecodeException(string message) : base(message) { }
    public LeaseDecodeException(string message, Exception inner) : base(message, inner) { }
    public LeaseDecodeException() { }
}
