namespace Flannel.Subnet;

/// <summary>A subnet file as read: its variables (after godotenv's unquoting) and the subnets they name.</summary>
public sealed record SubnetFileContents(PreviousSubnets Subnets, IReadOnlyDictionary<string, string> Values);
