namespace Flannel.Subnet.Etcd.V2;

/// <summary>One key to migrate: its v3 path, what v2 holds (value, seconds left) and v3 now, and what will be done.</summary>
public sealed record MigrationItem(string Key, string Kind, string? V2Value, long? TtlSeconds, string? V3Value, MigrationAction Action, string Note)
{
    public bool Writes => Action is MigrationAction.Copy or MigrationAction.Overwrite;
}
