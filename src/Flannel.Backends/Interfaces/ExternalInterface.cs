using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>The chosen external interface: where peers' traffic arrives and what is published as PublicIP.</summary>
public sealed record ExternalInterface(string Name, int Index, int Mtu, Ip4Address Address, Ip4Address PublicIP)
{
    /// <summary>Why this interface was chosen, for the log.</summary>
    public string Reason { get; init; } = "";
}
