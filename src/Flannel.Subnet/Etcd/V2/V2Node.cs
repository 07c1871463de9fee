namespace Flannel.Subnet.Etcd.V2;

/// <summary>One key of etcd's v2 keyspace: a value, or a directory of nodes; <see cref="Ttl"/> in seconds when it expires.</summary>
public sealed record V2Node(string Key, string? Value, bool Dir, long? Ttl, IReadOnlyList<V2Node> Nodes);
