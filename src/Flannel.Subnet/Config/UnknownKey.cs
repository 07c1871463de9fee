using System.Text.Json;

namespace Flannel.Subnet.Config;

/// <summary>
/// A key flannel does not know in the network config or its Backend object. flanneld ignores such keys (Go's JSON
/// decoder drops them), so a typo silently means the default: the daemon keeps running, check-config refuses.
/// </summary>
/// <param name="Key">The key as written.</param>
/// <param name="Where">Where it was found: "network config", or "Backend (vxlan)".</param>
/// <param name="Suggestion">The known key it most likely misspells, if one is close.</param>
public sealed record UnknownKey(string Key, string Where, string? Suggestion)
{
    /// <summary>The keys of <paramref name="obj"/> that match none of <paramref name="known"/> (case-insensitively, as Go matches them).</summary>
    public static List<UnknownKey> Find(JsonElement obj, IReadOnlyList<string> known, string where)
    {
        var unknown = new List<UnknownKey>();
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return unknown;
        }
        foreach (var p in obj.EnumerateObject())
        {
            if (!known.Any(k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase)))
            {
                unknown.Add(new UnknownKey(p.Name, where, KeySuggester.Suggest(p.Name, known)));
            }
        }
        return unknown;
    }

    /// <summary>The warning: the key, that it is ignored, and the likely intended key.</summary>
    public string Describe() => Suggestion is null
        ? $"unknown key \"{Key}\" in {Where} is ignored"
        : $"unknown key \"{Key}\" in {Where} is ignored (did you mean \"{Suggestion}\"?)";
}
