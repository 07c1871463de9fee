namespace Flannel.Backends.Udp;

/// <summary>Stable, log- and metric-friendly names of the drop reasons.</summary>
internal static class DropReasonNames
{
    public static string Of(DropReason reason) => reason switch
    {
        DropReason.TooShort => "too-short",
        DropReason.NotIpv4 => "not-ipv4",
        DropReason.NoRoute => "no-route",
        DropReason.TtlExpired => "ttl-expired",
        DropReason.UnknownPeer => "unknown-peer",
        DropReason.SpoofedSource => "spoofed-source",
        DropReason.BadOffload => "bad-offload",
        DropReason.SendFailed => "send-failed",
        DropReason.TunWriteFailed => "tun-write-failed",
        DropReason.TunFull => "tun-full",
        DropReason.TunDown => "tun-down",
        DropReason.TunGone => "tun-gone",
        _ => reason.ToString(),
    };
}
