using Flannel.Subnet.Config;

namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// Everything <see cref="DriftAnalyzer"/> compares: the config and leases from etcd, the kernel's state (IPv6's in
/// <see cref="Kernel6"/> on a dual-stack network).
/// </summary>
internal sealed record StatusInputs(NetworkConfig Config, string ConfigKey, IReadOnlyList<LeaseWithTtl> Leases, OwnHost Own, KernelSnapshot Kernel,
    KernelSnapshot? Kernel6 = null);
