namespace Flannel.Subnet.Leases;

/// <summary>A peer lease appeared or changed (<see cref="LeaseEventKind.Added"/>) or went away; a removal carries the last known attrs.</summary>
public sealed record LeaseEvent(LeaseEventKind Kind, Lease Lease);
