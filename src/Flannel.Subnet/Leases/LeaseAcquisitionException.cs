namespace Flannel.Subnet.Leases;

/// <summary>No lease could be had; the message says why (out of subnets, lost races).</summary>
public sealed class LeaseAcquisitionException : Exception
{
    public LeaseAcquisitionException(string message) : base(message) { }
    public LeaseAcquisitionException(string message, Exception inner) : base(message, inner) { }
    public LeaseAcquisitionException() { }
}
