namespace Flannel.Subnet;

/// <summary>
/// Liveness of the daemon's long-running loops: each loop reports when it completes a round and declares the longest
/// quiet time after which it should be considered stuck (the daemon's /healthz reads this).
/// </summary>
public interface ILoopHealth
{
    void Report(string loopName, TimeSpan bound);
}
