namespace Flannel.Daemon.Commands.Status;

public static class DriftKinds
{
    public const string Missing = "missing";
    public const string Stale = "stale";
    public const string Wrong = "wrong";
}
