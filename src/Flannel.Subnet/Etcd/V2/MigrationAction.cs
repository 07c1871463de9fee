namespace Flannel.Subnet.Etcd.V2;

public enum MigrationAction
{
    /// <summary>Absent in v3: copied (with --apply).</summary>
    Copy,

    /// <summary>In v3 with other content, and --force given: overwritten (with --apply).</summary>
    Overwrite,

    /// <summary>In v3 with the same content: nothing to do.</summary>
    Unchanged,

    /// <summary>In v3 with other content: kept, because --force was not given.</summary>
    KeepV3,

    /// <summary>A lease, and --leases was not given.</summary>
    NotAsked,

    /// <summary>Not a valid flannel config or lease: never copied.</summary>
    Invalid,

    /// <summary>The v2 keyspace has no config.</summary>
    Missing,
}
