using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>Whether a peer lease is programmed (<see cref="ProgrammedStates"/>) and, if not fully, why.</summary>
internal readonly record struct PeerState(string State, string? Detail);

/// <summary>What one backend's check found: its device, and the state of each peer lease.</summary>
internal sealed record BackendFindings(string? Device, bool DevicePresent, IReadOnlyDictionary<Lease, PeerState> Peers);
