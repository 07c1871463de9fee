namespace Flannel.Subnet.Ip;

/// <summary>An address family, as rtnetlink dumps and the dual-stack backends take them one at a time.</summary>
public enum IpFamily
{
    Ip4,
    Ip6,
}
