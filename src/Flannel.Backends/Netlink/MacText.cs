using System.Net.NetworkInformation;

namespace Flannel.Backends.Netlink;

/// <summary>MAC addresses the way <c>ip</c> prints them: lower case, colon separated.</summary>
internal static class MacText
{
    public static string Format(PhysicalAddress? mac) =>
        mac is null ? "-" : string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
