namespace Flannel.Daemon.Commands.Status;

/// <summary>Whether a peer lease is programmed (<see cref="ProgrammedStates"/>) and, if not fully, why.</summary>
internal readonly record struct PeerState(string State, string? Detail);
