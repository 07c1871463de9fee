namespace Flannel.Backends.Interfaces;

/// <summary>What the external interface monitor found when it looked again.</summary>
internal enum InterfaceVerdict
{
    /// <summary>As the backend has it: nothing to do.</summary>
    Unchanged,

    /// <summary>Not usable now (deleted, down, or without its address): traffic to the peers is stopped.</summary>
    Lost,

    /// <summary>Usable again after it had been lost, or different (index, address, MTU): rebuild and reconcile.</summary>
    Changed,
}
