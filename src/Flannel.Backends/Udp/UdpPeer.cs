using Flannel.Subnet.Ip;

namespace Flannel.Backends.Udp;

/// <summary>One peer host as the packet pump sees it: its subnet and where its datagrams go.</summary>
public readonly record struct UdpPeer(Ip4Network Subnet, Ip4Address PublicIP);
