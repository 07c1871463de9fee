namespace Flannel.Backends.KernelState;

/// <summary>How far one desired peer is in the kernel.</summary>
/// <param name="Expected">How many entries it asks for.</param>
/// <param name="Missing">The kinds of entry (<see cref="DriftEntries"/>) missing or wrong, in check order.</param>
/// <param name="Blocked">Its entries live on the device, which is missing: none can be there.</param>
public sealed record PeerDrift(DesiredPeer Peer, int Expected, IReadOnlyList<string> Missing, bool Blocked);
