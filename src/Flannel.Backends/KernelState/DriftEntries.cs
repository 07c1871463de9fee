namespace Flannel.Backends.KernelState;

/// <summary>The kinds of kernel entry a backend desires.</summary>
public static class DriftEntries
{
    public const string Device = "device";
    public const string Address = "address";
    public const string Route = "route";
    public const string Neighbour = "neighbour";
    public const string Fdb = "fdb";
}
