using System.Globalization;
using System.Text.Json;

namespace Flannel.Daemon.Rules;

/// <summary>
/// One table as <c>nft -j list table ip flannel-ipv4</c> shows it: its chains, and its rules in order with their
/// handles, each rendered back into the syntax we add rules in (libnftables' JSON is stable across nft versions, where
/// the text listing normalises, e.g. <c>meta mark 0x00004000</c>). Only the expressions flannel's rules use are
/// rendered; any other rule renders as something no rule of ours equals.
/// </summary>
internal sealed class NftRuleset
{
    public static readonly NftRuleset Missing = new(false, [], []);

    private NftRuleset(bool exists, HashSet<string> chains, List<(NftRule Rule, long Handle)> rules)
    {
        Exists = exists;
        Chains = chains;
        Rules = rules;
    }

    public bool Exists { get; }

    public IReadOnlySet<string> Chains { get; }

    public IReadOnlyList<(NftRule Rule, long Handle)> Rules { get; }

    /// <exception cref="RulesException">Not the JSON nft prints.</exception>
    public static NftRuleset Parse(string json)
    {
        var chains = new HashSet<string>(StringComparer.Ordinal);
        var rules = new List<(NftRule, long)>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (item.TryGetProperty("chain", out var chain))
                {
                    chains.Add(chain.GetProperty("name").GetString() ?? "");
                }
                else if (item.TryGetProperty("rule", out var rule))
                {
                    var parts = rule.GetProperty("expr").EnumerateArray().Select(Render);
                    rules.Add((new NftRule(rule.GetProperty("chain").GetString() ?? "", string.Join(' ', parts)),
                        rule.GetProperty("handle").GetInt64()));
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RulesException($"unexpected nft -j output: {e.Message}", e);
        }
        return new NftRuleset(true, chains, rules);
    }

    public int Count(NftRule rule) => Rules.Count(r => r.Rule == rule);

    public IEnumerable<long> Handles(NftRule rule) => Rules.Where(r => r.Rule == rule).Select(r => r.Handle);

    private static string Render(JsonElement expr)
    {
        if (expr.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in expr.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "match":
                        return RenderMatch(p.Value);
                    case "return" or "accept" or "drop":
                        return p.Name;
                    case "masquerade":
                        return p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("flags", out var flags)
                            ? "masquerade " + (flags.ValueKind == JsonValueKind.Array
                                ? string.Join(',', flags.EnumerateArray().Select(f => f.GetString()))
                                : flags.GetString())
                            : "masquerade";
                }
            }
        }
        return "{" + expr.GetRawText() + "}";
    }

    private static string RenderMatch(JsonElement match)
    {
        string op = match.GetProperty("op").GetString() switch
        {
            "==" => "",
            "!=" => "!= ",
            var other => other + " ",
        };
        var left = match.GetProperty("left");
        var right = match.GetProperty("right");
        if (left.TryGetProperty("payload", out var payload))
        {
            return $"{payload.GetProperty("protocol").GetString()} {payload.GetProperty("field").GetString()} {op}{Value(right)}";
        }
        if (left.TryGetProperty("meta", out var meta))
        {
            string key = meta.GetProperty("key").GetString() ?? "";
            string value = key == "mark" && right.ValueKind == JsonValueKind.Number
                ? "0x" + right.GetInt64().ToString("x", CultureInfo.InvariantCulture)
                : Value(right);
            return $"meta {key} {op}{value}";
        }
        return "{" + match.GetRawText() + "}";
    }

    private static string Value(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.Object when v.TryGetProperty("prefix", out var prefix) =>
            $"{prefix.GetProperty("addr").GetString()}/{prefix.GetProperty("len").GetInt32()}",
        _ => "{" + v.GetRawText() + "}",
    };
}
