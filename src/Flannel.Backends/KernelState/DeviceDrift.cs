namespace Flannel.Backends.KernelState;

/// <summary>The backend's device is missing (or is a link of another kind).</summary>
public sealed record DeviceDrift(string Name, string? DeviceKind) : Drift(DriftKinds.Missing, DriftEntries.Device, null);
