namespace Flannel.Subnet;

public sealed class NullLoopHealth : ILoopHealth
{
    public static readonly NullLoopHealth Instance = new();

    public void Report(string loopName, TimeSpan bound) { }
}
