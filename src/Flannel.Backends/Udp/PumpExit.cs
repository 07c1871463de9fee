namespace Flannel.Backends.Udp;

/// <summary>Why a pump thread, or a whole run of the pump, ended. Ordered by severity: a run reports its worst.</summary>
public enum PumpExit
{
    /// <summary>The stop event fired (shutdown, or another thread ended the run).</summary>
    Stopped,

    /// <summary>The UDP socket keeps failing (an error poll and reads cannot clear): it must be opened again.</summary>
    SocketFailed,

    /// <summary>The TUN device is gone (deleted with <c>ip link del</c>): it must be created again.</summary>
    TunGone,
}
