using System.Globalization;
using System.Text.RegularExpressions;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet;

/// <summary>
/// flannel's subnet key text: <c>10.5.52.0-24</c> or <c>10.12.13.0-24&amp;fd00:12:13::-56</c>
/// (<c>MakeSubnetKey</c>/<c>ParseSubnetKey</c>, compat §1.1).
/// </summary>
internal static partial class SubnetKeyCodec
{
    // flannel's pattern, anchored only at the end so a full etcd path parses. The third '.' is unescaped in flannel
    // and so matches any character; the address parse below then rejects what is not a dotted quad. Go's \d and $
    // are ASCII digits and end-of-text, hence [0-9] and \z here.
    [GeneratedRegex(@"([0-9]+\.[0-9]+.[0-9]+.[0-9]+)-([0-9]+)(?:&([a-f0-9:]+)-([0-9]+))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    public static string Format(SubnetKey key) => key.Ipv6Subnet is { } v6
        ? string.Create(CultureInfo.InvariantCulture, $"{key.Subnet.Ip}-{key.Subnet.PrefixLength}&{v6.Ip}-{v6.PrefixLength}")
        : string.Create(CultureInfo.InvariantCulture, $"{key.Subnet.Ip}-{key.Subnet.PrefixLength}");

    /// <summary>Parses a key or a full etcd path ending in one. Host bits are kept as written.</summary>
    public static bool TryParse(string text, out SubnetKey key)
    {
        key = default;
        var m = KeyPattern().Match(text);
        if (!m.Success ||
            !Ip4Address.TryParse(m.Groups[1].ValueSpan, out var ip4) ||
            !TryParseBits(m.Groups[2].ValueSpan, 5, out int len4))
        {
            return false;
        }
        Ip6Network? v6 = null;
        if (m.Groups[3].Success)
        {
            if (!Ip6Address.TryParse(m.Groups[3].ValueSpan, out var ip6) || !TryParseBits(m.Groups[4].ValueSpan, 7, out int len6))
            {
                return false;
            }
            v6 = new Ip6Network(ip6, len6);
        }
        key = new SubnetKey(new Ip4Network(ip4, len4), v6);
        return true;
    }

    // Go's strconv.ParseUint(s, 10, bits): decimal digits only (leading zeros allowed), value below 2^bits.
    // With bits = 5 an IPv4 key of "-32" is rejected, as in flannel.
    private static bool TryParseBits(ReadOnlySpan<char> s, int bits, out int value)
    {
        value = 0;
        foreach (char c in s)
        {
            value = (value * 10) + (c - '0');
            if (value >= 1 << bits)
            {
                return false;
            }
        }
        return s.Length > 0;
    }
}
