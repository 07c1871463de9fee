namespace Flannel.Daemon.Commands.Status;

public static class DriftEntries
{
    public const string Device = "device";
    public const string Route = "route";
    public const string Neighbour = "neighbour";
    public const string Fdb = "fdb";
}
