namespace Flannel.Daemon.Commands.Status;

/// <summary>
/// One lease. <see cref="Programmed"/> is one of the <see cref="ProgrammedStates"/>; <see cref="Detail"/> says what is
/// missing or why nothing is expected.
/// </summary>
/// <param name="ExpiresInSeconds">The etcd lease's remaining TTL; null when the key has no lease (never expires).</param>
/// <param name="Ipv6Subnet">The IPv6 half of a dual-stack key; null for an IPv4-only lease.</param>
/// <param name="PublicIPv6">The lease's PublicIPv6; null when it has none.</param>
internal sealed record StatusLeaseRow(
    string Subnet,
    string PublicIP,
    string BackendType,
    long? ExpiresInSeconds,
    bool Own,
    string Programmed,
    string? Detail,
    string? Ipv6Subnet = null,
    string? PublicIPv6 = null);
