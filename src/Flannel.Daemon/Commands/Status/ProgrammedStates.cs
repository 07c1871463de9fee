namespace Flannel.Daemon.Commands.Status;

internal static class ProgrammedStates
{
    /// <summary>Our own lease: never a peer.</summary>
    public const string ThisHost = "this-host";
    /// <summary>Every entry the lease asks for is in the kernel.</summary>
    public const string Yes = "yes";
    /// <summary>Some but not all of them.</summary>
    public const string Partly = "partly";
    /// <summary>None of them.</summary>
    public const string No = "no";
    /// <summary>The backend ignores this lease (another backend type, no VtepMAC).</summary>
    public const string NotExpected = "not-expected";
    /// <summary>udp keeps its peers in the daemon's memory, not in the kernel.</summary>
    public const string InDaemon = "in-daemon";
}
