using System.Text;
using CsCheck;
using Flannel.Subnet.Config;
using Flannel.Subnet.Ip;
using Flannel.Subnet.Leases;
using static Flannel.Subnet.Tests.Properties.Generators;

namespace Flannel.Subnet.Tests.Properties;

/// <summary>
/// Property and fuzz tests (issue 7 item 7): the config parser, the subnet key codec, the IP parsers and the lease
/// decoder throw nothing but their documented exception on any input, and format-then-parse round-trips.
/// Iteration counts are fixed so the whole set stays within seconds.
/// </summary>
[Unit]
public class ParserProperties
{
    private const long FuzzIterations = 20_000;
    private const long RoundTripIterations = 10_000;

    [Fact]
    public void Config_parser_throws_only_NetworkConfigException()
    {
        ConfigLike.Sample(json =>
        {
            try
            {
                _ = NetworkConfigParser.Parse(json);
            }
            catch (NetworkConfigException e)
            {
                Assert.False(string.IsNullOrEmpty(e.Message));
            }
        }, iter: FuzzIterations);
    }

    [Fact]
    public void Config_parser_throws_only_NetworkConfigException_on_strings_with_lone_surrogates()
    {
        // A .NET string that did not come from UTF-8 may hold a lone surrogate; Parse(string) must still reject it
        // with its own exception.
        RawConfigLike.Sample(json =>
        {
            try
            {
                NetworkConfigParser.Parse(json);
            }
            catch (NetworkConfigException)
            {
            }
        }, iter: FuzzIterations);
    }

    [Fact]
    public void Config_parser_accepts_what_it_accepted_once_more_with_the_same_result()
    {
        // Parsing is a pure function of the text: a second parse gives an equal config (or the same error).
        Gen.Frequency((3, ConfigJson), (1, Gen.Select(ConfigJson, Gen.Int.Array[1, 3], Mutate).Select(WellFormed))).Sample(json =>
        {
            NetworkConfig? first = TryParse(json, out string? error1);
            NetworkConfig? second = TryParse(json, out string? error2);
            Assert.Equal(error1, error2);
            Assert.Equal(first is null, second is null);
            if (first is not null && second is not null)
            {
                Assert.Equal(first with { Warnings = [], UnknownKeys = [] }, second with { Warnings = [], UnknownKeys = [] });
                Assert.Equal(first.Warnings, second.Warnings);
                Assert.Equal(first.UnknownKeys, second.UnknownKeys);
            }
        }, iter: RoundTripIterations);
    }

    [Fact]
    public void Json_syntax_errors_are_found_exactly_when_the_text_is_not_json_and_point_inside_it()
    {
        // JsonSyntaxError re-reads the text on its own: it must agree with the parser on what is JSON, and its line and
        // column must name a place in the text (the end of the text at most).
        ConfigLike.Sample(json =>
        {
            bool isJson;
            try
            {
                using var _ = System.Text.Json.JsonDocument.Parse(json);
                isJson = true;
            }
            catch (System.Text.Json.JsonException)
            {
                isJson = false;
            }
            catch (ArgumentException)
            {
                return; // a lone surrogate: not UTF-8 text, reported before any JSON is read
            }
            var found = JsonSyntaxError.Find(json);
            Assert.Equal(isJson, found is null);
            if (found is { } f)
            {
                string[] lines = json.Split('\n');
                Assert.InRange(f.Line, 1, lines.Length);
                Assert.InRange(f.Column, 1, lines[f.Line - 1].EnumerateRunes().Count() + 1);
                Assert.False(string.IsNullOrEmpty(f.Message));
            }
        }, iter: FuzzIterations);
    }

    [Fact]
    public void Subnet_key_TryParse_never_throws()
    {
        var key = Gen.Select(Ip4, Gen.Int[0, 40], Gen.Nullable(Gen.Select(Ip6, Gen.Int[0, 140])), (ip, len, v6) =>
            v6 is { } v ? $"{ip}-{len}&{v.Item1}-{v.Item2}" : $"{ip}-{len}");
        Gen.Frequency(
            (3, Text),
            (3, Gen.Select(key, Gen.Int.Array[1, 3], Mutate)),
            (1, Gen.Select(Text, key, (prefix, k) => "/coreos.com/network/subnets/" + prefix + k)),
            (1, Gen.Select(Gen.Char["0123456789"].Array[1, 30], Gen.Char["0123456789"].Array[1, 30],
                (a, b) => $"1.2.3.{new string(a)}-{new string(b)}"))).Sample(text =>
        {
            if (SubnetKeyCodec.TryParse(text, out var parsed))
            {
                // What parses formats back to text that parses to the same key.
                Assert.True(SubnetKeyCodec.TryParse(SubnetKeyCodec.Format(parsed), out var again));
                Assert.Equal(parsed, again);
            }
        }, iter: FuzzIterations);
    }

    [Fact]
    public void Subnet_key_format_then_parse_round_trips()
    {
        // flannel's key lengths are ParseUint(s, 10, 5) and (s, 10, 7): /0../31 and /0../127; host bits are kept.
        Gen.Select(Ip4, Gen.Int[0, 31], Gen.Nullable(Gen.Select(Ip6, Gen.Int[0, 127])), (ip, len, v6) =>
            new SubnetKey(new Ip4Network(ip, len), v6 is { } v ? new Ip6Network(v.Item1, v.Item2) : null)).Sample(key =>
        {
            string text = SubnetKeyCodec.Format(key);
            Assert.True(SubnetKeyCodec.TryParse(text, out var parsed), text);
            Assert.Equal(key, parsed);
            Assert.True(SubnetKeyCodec.TryParse("/coreos.com/network/subnets/" + text, out var fromPath), text);
            Assert.Equal(key, fromPath);
        }, iter: RoundTripIterations);
    }

    [Fact]
    public void Ip_parsers_never_throw_and_round_trip()
    {
        Gen.Frequency((3, Text), (1, Gen.Select(Ip6Net.Select(n => n.ToString()), Gen.Int.Array[1, 3], Mutate)),
            (1, Gen.Select(Ip4Net.Select(n => n.ToString()), Gen.Int.Array[1, 3], Mutate))).Sample(text =>
        {
            if (Ip4Address.TryParse(text, out var a4))
            {
                Assert.Equal(a4, Ip4Address.Parse(a4.ToString()));
            }
            if (Ip6Address.TryParse(text, out var a6))
            {
                Assert.Equal(a6, Ip6Address.Parse(a6.ToString()));
            }
            if (Ip4Network.TryParseCidr(text, out var n4))
            {
                Assert.Equal(n4, Ip4Network.ParseCidr(n4.ToString()));
            }
            if (Ip6Network.TryParseCidr(text, out var n6))
            {
                Assert.Equal(n6, Ip6Network.ParseCidr(n6.ToString()));
            }
        }, iter: FuzzIterations);

        Gen.Select(Ip4Net, Ip6Net).Sample(nets =>
        {
            var (n4, n6) = nets;
            Assert.Equal(n4, Ip4Network.ParseCidr(n4.ToString()));
            Assert.Equal(n6, Ip6Network.ParseCidr(n6.ToString()));
            Assert.Equal(n4.Ip, Ip4Address.Parse(n4.Ip.ToString()));
            Assert.Equal(n6.Ip, Ip6Address.Parse(n6.Ip.ToString()));
        }, iter: RoundTripIterations);
    }

    // Backend data ToJson can write: no escaped lone surrogate (see Every_decoded_lease_can_be_encoded_again).
    private static readonly Gen<string?> BackendData = Object(2)
        .Where(s => !s.Contains("\\ud800", StringComparison.Ordinal) && !s.Contains("\\udc00", StringComparison.Ordinal))
        .Select(s => (string?)s);

    private static readonly Gen<LeaseAttrs> Lease = Gen.Select(
        Ip4,
        Gen.Nullable(Ip6),
        Gen.OneOfConst<string?>(null, "vxlan", "udp", "host-gw", "extension", "ipip"),
        Gen.Frequency((1, Gen.Const<string?>(() => null)), (3, BackendData)),
        Gen.Frequency((2, Gen.Const<string?>(() => null)), (1, BackendData)),
        (ip, ip6, type, data, data6) => new LeaseAttrs(ip, ip6, type, data, data6));

    private static readonly Gen<byte[]> LeaseBytes = Gen.Frequency(
            (3, Gen.Select(Lease.Select(l => l.ToJson()), Gen.Int.Array[1, 4], Mutate).Select(s => Encoding.UTF8.GetBytes(s))),
            (2, Object(2).Select(s => Encoding.UTF8.GetBytes(s))),
            (1, ConfigLike.Select(s => Encoding.UTF8.GetBytes(s))),
            (2, Gen.Byte.Array[0, 64]),
            (1, Gen.Select(Lease.Select(l => Encoding.UTF8.GetBytes(l.ToJson())), Gen.Int, Gen.Byte, (bytes, at, b) =>
            {
                if (bytes.Length > 0)
                {
                    bytes[(int)((uint)at % (uint)bytes.Length)] = b; // a raw byte flip: invalid UTF-8 included
                }
                return bytes;
            })));

    [Fact]
    public void Lease_decoder_throws_only_LeaseDecodeException()
    {
        LeaseBytes.Sample(utf8 =>
        {
            try
            {
                _ = LeaseAttrs.FromJson(utf8);
            }
            catch (LeaseDecodeException e)
            {
                Assert.False(string.IsNullOrEmpty(e.Message));
            }
        }, iter: FuzzIterations, print: PrintUtf8);
    }

    [Fact]
    public void Every_decoded_lease_can_be_encoded_again()
    {
        LeaseBytes.Sample(utf8 =>
        {
            LeaseAttrs lease;
            try
            {
                lease = LeaseAttrs.FromJson(utf8);
            }
            catch (LeaseDecodeException)
            {
                return;
            }
            string json = lease.ToJson();
            Assert.Equal(json, LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(json)).ToJson());
        }, iter: FuzzIterations, print: PrintUtf8);
    }

    private static string PrintUtf8(byte[] bytes) => Convert.ToHexString(bytes) + " \"" + Encoding.UTF8.GetString(bytes) + "\"";

    [Fact]
    public void Lease_ToJson_then_FromJson_round_trips()
    {
        Lease.Sample(lease =>
        {
            string json = lease.ToJson();
            var decoded = LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(json));
            Assert.Equal(lease.PublicIP, decoded.PublicIP);
            Assert.Equal(lease.PublicIPv6, decoded.PublicIPv6);
            Assert.Equal(lease.BackendType, decoded.BackendType);
            Assert.Equal(lease.BackendData is null, decoded.BackendData is null);
            Assert.Equal(lease.BackendV6Data is null, decoded.BackendV6Data is null);
            // The raw data comes back compacted, so the second encoding is the first byte for byte.
            Assert.Equal(json, decoded.ToJson());
        }, iter: RoundTripIterations);
    }

    private static NetworkConfig? TryParse(string json, out string? error)
    {
        try
        {
            error = null;
            return NetworkConfigParser.Parse(json);
        }
        catch (NetworkConfigException e)
        {
            error = e.Message;
            return null;
        }
    }
}
