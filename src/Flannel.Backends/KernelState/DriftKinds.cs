namespace Flannel.Backends.KernelState;

/// <summary>How a kernel entry differs from the desired state (the words <c>flanneld status</c> prints).</summary>
public static class DriftKinds
{
    /// <summary>Desired, not in the kernel.</summary>
    public const string Missing = "missing";

    /// <summary>In the kernel where the backend owns entries, not desired (left by a peer that went away).</summary>
    public const string Stale = "stale";

    /// <summary>The key is there with other content (a neighbour with another MAC, or not permanent).</summary>
    public const string Wrong = "wrong";
}
