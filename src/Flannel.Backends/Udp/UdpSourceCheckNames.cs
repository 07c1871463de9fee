namespace Flannel.Backends.Udp;

/// <summary>The flag's spelling of <see cref="UdpSourceCheck"/>.</summary>
public static class UdpSourceCheckNames
{
    public const string Strict = "strict";
    public const string Subnet = "subnet";
    public const string Off = "off";

    public static string Of(UdpSourceCheck check) => check switch
    {
        UdpSourceCheck.Subnet => Subnet,
        UdpSourceCheck.Off => Off,
        _ => Strict,
    };

    /// <summary>Parses a flag value (case-insensitive, surrounding blanks ignored).</summary>
    public static bool TryParse(string? text, out UdpSourceCheck check)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case Strict:
                check = UdpSourceCheck.Strict;
                return true;
            case Subnet:
                check = UdpSourceCheck.Subnet;
                return true;
            case Off:
                check = UdpSourceCheck.Off;
                return true;
            default:
                check = UdpSourceCheck.Strict;
                return false;
        }
    }
}
