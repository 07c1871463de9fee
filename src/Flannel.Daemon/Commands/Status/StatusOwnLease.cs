namespace Flannel.Daemon.Commands.Status;

/// <summary>This host's lease: the subnet found in etcd, or null, and how it was looked for.</summary>
internal sealed record StatusOwnLease(string? Subnet, string Source);
