namespace Flannel.Subnet.Config;

/// <summary>"Did you mean" for misspelt config keys: the closest known key within a small edit distance.</summary>
public static class KeySuggester
{
    public static string? Suggest(string key, IReadOnlyList<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        // Allow roughly one typo per four characters, at least one and at most three.
        int limit = Math.Clamp(key.Length / 4, 1, 3);
        foreach (string candidate in known)
        {
            int d = Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d <= limit && d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    // Optimal string alignment distance (Levenshtein plus adjacent transpositions, a common typo).
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    v = Math.Min(v, d[i - 2, j - 2] + 1);
                }
                d[i, j] = v;
            }
        }
        return d[a.Length, b.Length];
    }
}
