namespace Flannel.Daemon.Commands.Status;

/// <summary>The flannel device as the kernel has it.</summary>
/// <param name="Name">flannel.VNI or flannel0.</param>
/// <param name="Index">Its interface index, the one routes, neighbours and FDB entries refer to.</param>
internal sealed record StatusDevice(string Name, int Index);
