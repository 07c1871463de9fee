using Flannel.Subnet.Leases;

namespace Flannel.Daemon.Commands.Status;

/// <summary>What one backend's check found: its device, and the state of each peer lease.</summary>
internal sealed record BackendFindings(string? Device, bool DevicePresent, IReadOnlyDictionary<Lease, PeerState> Peers);
