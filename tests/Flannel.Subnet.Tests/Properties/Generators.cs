using System.Globalization;
using System.Text;
using CsCheck;
using Flannel.Subnet.Ip;

namespace Flannel.Subnet.Tests.Properties;

/// <summary>CsCheck generators for the parser properties: addresses, networks, JSON text and mutations of it.</summary>
internal static class Generators
{
    public static readonly Gen<Ip4Address> Ip4 = Gen.UInt.Select(v => new Ip4Address(v));

    public static readonly Gen<Ip6Address> Ip6 = Gen.Frequency(
        (3, Gen.Select(Gen.ULong, Gen.ULong, (hi, lo) => new Ip6Address(new UInt128(hi, lo)))),
        // Zero runs exercise the "::" compression.
        (2, Gen.Select(Gen.UShort.Array[8], Gen.Int[0, 255], (groups, zeroMask) =>
        {
            UInt128 v = 0;
            for (int i = 0; i < 8; i++)
            {
                v = (v << 16) | (((zeroMask >> i) & 1) != 0 ? 0u : groups[i]);
            }
            return new Ip6Address(v);
        })));

    public static readonly Gen<Ip4Network> Ip4Net = Gen.Select(Ip4, Gen.Int[0, 32], (ip, len) => new Ip4Network(ip, len).Network);

    public static readonly Gen<Ip6Network> Ip6Net = Gen.Select(Ip6, Gen.Int[0, 128], (ip, len) => new Ip6Network(ip, len).Network);

    /// <summary>Characters that matter to the parsers, plus now and then anything at all (lone surrogates too).</summary>
    public static readonly Gen<char> TextChar = Gen.Frequency(
        (8, Gen.Char["0123456789.-/&:abcdefx "]),
        (1, Gen.Char['\0', '\u007f']),
        (1, Gen.Char));

    public static readonly Gen<string> Text = Gen.String[TextChar, 0, 40];

    private static readonly string[] ConfigKeys =
    [
        "EnableIPv4", "EnableIPv6", "EnableNFTables", "Network", "IPv6Network", "Networks", "IPv6Networks",
        "SubnetMin", "SubnetMax", "IPv6SubnetMin", "IPv6SubnetMax", "SubnetLen", "IPv6SubnetLen", "Backend",
        "Type", "PublicIP", "PublicIPv6", "BackendType", "BackendData", "BackendV6Data", "VNI", "Port",
    ];

    /// <summary>A JSON string literal (with its quotes) of text that may contain escapes, lone surrogates included.</summary>
    public static readonly Gen<string> StringLiteral = Gen.Frequency(
        (4, Gen.OneOf(
            Ip4.Select(a => a.ToString()), Ip6.Select(a => a.ToString()),
            Ip4Net.Select(n => n.ToString()), Ip6Net.Select(n => n.ToString()),
            Gen.OneOfConst("vxlan", "udp", "host-gw", "", "10.1.0.0/16", "fd00::/48", "::ffff:1.2.3.4", "1.2.3.4%eth0"))
            .Select(Quote)),
        (2, Text.Select(Quote)),
        (1, Gen.OneOfConst("\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"", "\"a\\\"b\"", "\"\\/\"", "\"\\uD83D\\uDE00\"")));

    public static readonly Gen<string> NumberLiteral = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Int[0, 130].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "0"),
        Gen.OneOfConst("18446744073709551615", "18446744073709551616", "1e400", "-1e400", "-0", "1.0", "24.5", "1E2",
            "99999999999999999999999999999999999999999"));

    public static readonly Gen<string> Leaf = Gen.Frequency(
        (5, StringLiteral), (3, NumberLiteral), (1, Gen.OneOfConst("true", "false", "null")));

    /// <summary>A JSON key: a known field in random letter case, or some other text.</summary>
    public static readonly Gen<string> Key = Gen.Frequency(
        (4, Gen.Select(Gen.OneOfConst(ConfigKeys), Gen.Int, (k, caseBits) =>
        {
            var sb = new StringBuilder(k);
            for (int i = 0; i < sb.Length && i < 31; i++)
            {
                if (((caseBits >> i) & 1) != 0 && (i % 3 == 0))
                {
                    sb[i] = char.IsUpper(sb[i]) ? char.ToLowerInvariant(sb[i]) : char.ToUpperInvariant(sb[i]);
                }
            }
            return Quote(sb.ToString());
        })),
        (1, StringLiteral));

    /// <summary>Any JSON value nested at most <paramref name="depth"/> deep.</summary>
    public static Gen<string> Value(int depth) => depth == 0
        ? Leaf
        : Gen.Frequency(
            (6, Leaf),
            (2, Object(depth - 1)),
            (1, Value(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")));

    public static Gen<string> Object(int depth) =>
        Gen.Select(Key, Value(depth)).Array[0, 8]
            .Select(members => "{" + string.Join(",", members.Select(m => m.Item1 + ":" + m.Item2)) + "}");

    /// <summary>A valid-looking network config: a Network (often), SubnetLen, bounds and a Backend, all of them optional.</summary>
    public static readonly Gen<string> ConfigJson = Gen.Select(
        Gen.Select(Ip4Net, Gen.Int[0, 32], Gen.Int[0, 7]),
        Gen.Select(Ip6Net, Gen.Int[0, 128], Gen.Bool),
        Gen.OneOfConst("vxlan", "udp", "host-gw", ""),
        Gen.Int[0, 1023],
        (v4, v6, backend, present) =>
        {
            var (net, subnetLen, minOff) = v4;
            var (net6, subnetLen6, enable6) = v6;
            var parts = new List<string>();
            if ((present & 1) != 0)
            {
                parts.Add($"\"Network\":\"{net}\"");
            }
            if ((present & 2) != 0)
            {
                parts.Add($"\"SubnetLen\":{subnetLen}");
            }
            if ((present & 4) != 0)
            {
                parts.Add($"\"SubnetMin\":\"{new Ip4Address(net.Ip.Value + ((uint)minOff << 8))}\"");
            }
            if ((present & 8) != 0)
            {
                parts.Add($"\"SubnetMax\":\"{new Ip4Address(unchecked(net.Next().Ip.Value - 256u))}\"");
            }
            if ((present & 16) != 0)
            {
                parts.Add($"\"EnableIPv6\":{(enable6 ? "true" : "false")}");
            }
            if ((present & 32) != 0)
            {
                parts.Add($"\"IPv6Network\":\"{net6}\"");
            }
            if ((present & 64) != 0)
            {
                parts.Add($"\"IPv6SubnetLen\":{subnetLen6}");
            }
            if ((present & 128) != 0)
            {
                parts.Add($"\"Backend\":{{\"Type\":\"{backend}\",\"VNI\":1}}");
            }
            if ((present & 256) != 0)
            {
                parts.Add("\"EnableIPv4\":false");
            }
            if ((present & 512) != 0)
            {
                parts.Add("\"EnableNFTables\":true");
            }
            return "{" + string.Join(",", parts) + "}";
        });

    /// <summary>
    /// Mutates <paramref name="text"/> with the encoded edits: each int picks an operation (delete, insert, replace,
    /// truncate, duplicate a slice), a position and a character.
    /// </summary>
    public static string Mutate(string text, int[] edits)
    {
        const string Interesting = "{}[]\":,\\0123456789.-eE+/tfnu \u0000\ud800";
        var sb = new StringBuilder(text);
        foreach (int e in edits)
        {
            int op = e & 7;
            int at = sb.Length == 0 ? 0 : (int)((uint)e >> 3) % (sb.Length + 1);
            char c = Interesting[(int)((uint)e >> 20) % Interesting.Length];
            switch (op)
            {
                case 0 or 1 when at < sb.Length:
                    sb.Remove(at, 1);
                    break;
                case 2 or 3:
                    sb.Insert(at, c);
                    break;
                case 4 when at < sb.Length:
                    sb[at] = c;
                    break;
                case 5:
                    sb.Length = at;
                    break;
                case 6:
                    int n = Math.Min(8, sb.Length - at);
                    sb.Insert(at, sb.ToString(at, n));
                    break;
                default:
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// <paramref name="s"/> as it would be after a trip through UTF-8 (what a config read from etcd or a file is): lone
    /// surrogates become U+FFFD. Escaped ones (<c>\ud800</c> in the JSON text) stay.
    /// </summary>
    public static string WellFormed(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));

    /// <summary>Text with raw lone surrogates possible (a .NET string not decoded from bytes).</summary>
    public static readonly Gen<string> RawConfigLike = Gen.Frequency(
        (3, ConfigJson),
        (4, Gen.Select(ConfigJson, Gen.Int.Array[1, 4], Mutate)),
        (3, Object(3)),
        (2, Gen.Select(Object(2), Gen.Int.Array[1, 4], Mutate)),
        (1, Value(2)),
        (1, Text),
        (1, Gen.Select(Gen.Int[1, 2000], Gen.OneOfConst("[", "{\"a\":", "{\"Backend\":"), (n, open) => string.Concat(Enumerable.Repeat(open, n)))));

    /// <summary>Text: valid configs, mutated configs, random JSON, random characters, deep nesting (well-formed UTF-16).</summary>
    public static readonly Gen<string> ConfigLike = RawConfigLike.Select(WellFormed);

    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                < ' ' => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => sb.Append(c),
            };
        }
        return sb.Append('"').ToString();
    }
}
