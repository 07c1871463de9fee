using System.Text;
using System.Text.Json;

namespace Flannel.Subnet.Config;

/// <summary>
/// Explains why a text is not JSON in an operator's terms: the line and column an editor shows (1-based, columns
/// counted in characters, a tab as one) and what was expected there, instead of System.Text.Json's reader wording
/// ("Change the reader options", byte positions counted from 0).
/// </summary>
/// <remarks>
/// The text is read again token by token with <see cref="Utf8JsonReader"/>: the last token read before the failure
/// and the enclosing object or array say what may come next, and the character at the failure says what came.
/// </remarks>
internal static class JsonSyntaxError
{
    /// <summary>The 1-based line and column of the first syntax error and what was expected, or null when the text is JSON.</summary>
    public static (int Line, int Column, string Message)? Find(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 });
        var containers = new Stack<JsonTokenType>();
        JsonTokenType last = JsonTokenType.None;
        long lastEnd = 0;
        try
        {
            while (reader.Read())
            {
                last = reader.TokenType;
                lastEnd = reader.BytesConsumed;
                if (last is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    containers.Push(last);
                }
                else if (last is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    containers.Pop();
                }
            }
            return null;
        }
        catch (JsonException e)
        {
            long offset = OffsetOf(utf8, e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            JsonTokenType container = containers.Count > 0 ? containers.Peek() : JsonTokenType.None;
            // Point at what follows the last good token, past the ':' or ',' that may come next: the reader reports
            // some errors (a bad literal, a broken string) from inside the token, but an editor user wants its start.
            long at = SkipSpace(utf8, lastEnd);
            // The reader takes a key together with its ':', so after a PropertyName a value is due.
            bool afterColon = last == JsonTokenType.PropertyName, afterComma = false;
            if (at < utf8.Length && utf8[at] == ',' && container != JsonTokenType.None && IsValueEnd(last))
            {
                afterComma = true;
                at = SkipSpace(utf8, at + 1);
            }
            bool keyDue = last == JsonTokenType.StartObject || (afterComma && container == JsonTokenType.StartObject);
            if (keyDue && at < utf8.Length && utf8[at] == '"' && StringEnd(utf8, at) is var end && end > 0)
            {
                // The key itself is fine, so what follows it is wrong: a missing ':', or a bad value after it.
                long next = SkipSpace(utf8, end);
                if (next >= utf8.Length || utf8[next] != ':')
                {
                    var (l, col) = Position(utf8, next);
                    string key = Encoding.UTF8.GetString(utf8, (int)at, (int)(end - at));
                    return (l, col, $"expected ':' after the key {key}, found {Found(utf8, next)}");
                }
                at = SkipSpace(utf8, next + 1);
                last = JsonTokenType.PropertyName;
                afterColon = true;
                afterComma = false;
                offset = Math.Max(offset, at);
            }
            at = Math.Min(at, Math.Max(offset, lastEnd));
            var (line, column) = Position(utf8, at);
            return (line, column, Explain(utf8, at, last, container, afterColon, afterComma));
        }
    }

    private static bool IsValueEnd(JsonTokenType t) => t is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True
        or JsonTokenType.False or JsonTokenType.Null or JsonTokenType.EndObject or JsonTokenType.EndArray;

    private static string Explain(byte[] utf8, long at, JsonTokenType last, JsonTokenType container, bool afterColon, bool afterComma)
    {
        string found = Found(utf8, at);
        byte c = at < utf8.Length ? utf8[at] : (byte)0;
        if (c == '/' && at + 1 < utf8.Length && utf8[at + 1] is (byte)'/' or (byte)'*')
        {
            return "found a comment: JSON has no comments";
        }
        const string Value = "a value (a string in double quotes, a number, true, false, null, an object or an array)";
        string word = found.Trim('\'');
        string hint = c == '\'' ? " (JSON strings and keys use double quotes)"
            : afterColon && (word.Equals("true", StringComparison.OrdinalIgnoreCase) || word.Equals("false", StringComparison.OrdinalIgnoreCase)
                || word.Equals("null", StringComparison.OrdinalIgnoreCase)) ? " (JSON writes true, false and null in lower case)"
            : afterColon && char.IsAsciiLetterOrDigit((char)c) ? " (text such as an address goes in double quotes)" : "";
        string expected;
        bool stringMayStart;
        switch (last)
        {
            case JsonTokenType.None:
                expected = "'{' (the config is one JSON object)";
                stringMayStart = true;
                break;
            case JsonTokenType.StartObject:
                expected = "a key in double quotes or '}'";
                stringMayStart = true;
                break;
            case JsonTokenType.PropertyName:
                expected = Value;
                stringMayStart = true;
                break;
            case JsonTokenType.StartArray:
                expected = "a value or ']'";
                stringMayStart = true;
                break;
            default:
                if (container == JsonTokenType.None)
                {
                    return $"found {found} after the end of the config: nothing may follow the closing '}}' of its object";
                }
                if (afterComma)
                {
                    expected = container == JsonTokenType.StartObject ? "a key in double quotes" : "a value";
                    if (c is (byte)'}' or (byte)']')
                    {
                        hint = $" (JSON allows no comma before '{(char)c}')";
                    }
                    stringMayStart = true;
                }
                else
                {
                    expected = container == JsonTokenType.StartObject ? "',' or '}'" : "',' or ']'";
                    if (c == '"')
                    {
                        hint = " (is a comma missing?)";
                    }
                    stringMayStart = false;
                }
                break;
        }
        if (c == '"' && stringMayStart)
        {
            // A string started where one may: the string itself is broken.
            return "this string is not closed, or holds a character JSON does not allow in a string " +
                   "(a line break, a tab, a control character or a bad \\ escape)";
        }
        return $"expected {expected}, found {found}{hint}";
    }

    /// <summary>The offset just past the closing quote of the string starting at <paramref name="at"/>, or -1 when it is not closed on its line.</summary>
    private static long StringEnd(byte[] utf8, long at)
    {
        for (long i = at + 1; i < utf8.Length; i++)
        {
            byte b = utf8[i];
            if (b == '"')
            {
                return i + 1;
            }
            if (b < 0x20)
            {
                return -1; // a raw line break or control character: JSON does not allow it in a string
            }
            if (b == '\\')
            {
                i++;
            }
        }
        return -1;
    }

    private static long SkipSpace(byte[] utf8, long from)
    {
        long i = from;
        while (i < utf8.Length && utf8[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }
        return i;
    }

    private static string Found(byte[] utf8, long at)
    {
        if (at >= utf8.Length)
        {
            return "the end of the text";
        }
        // A word (a bare name, a misspelt true/false/null, a number) is shown whole; a symbol as one character.
        long end = at;
        while (end < utf8.Length && end - at < 24 && (char.IsAsciiLetterOrDigit((char)utf8[end]) || utf8[end] is (byte)'.' or (byte)'-' or (byte)'+' or (byte)'_'))
        {
            end++;
        }
        if (end > at)
        {
            return $"'{Encoding.UTF8.GetString(utf8, (int)at, (int)(end - at))}'";
        }
        var rune = Rune.DecodeFromUtf8(utf8.AsSpan((int)at), out var r, out _) == System.Buffers.OperationStatus.Done ? r : Rune.ReplacementChar;
        return rune.Value switch
        {
            '\'' => "a single quote (')",
            '"' => "a double quote (\")",
            '\n' or '\r' => "a line break",
            '\t' => "a tab",
            < 0x20 => $"the control character U+{rune.Value:X4}",
            _ => $"'{rune}'",
        };
    }

    // System.Text.Json counts lines from 0 at each '\n' and the position in bytes from the line's start.
    private static long OffsetOf(byte[] utf8, long line, long bytesInLine)
    {
        long offset = 0;
        for (long l = 0; l < line && offset < utf8.Length; offset++)
        {
            if (utf8[offset] == '\n')
            {
                l++;
            }
        }
        return Math.Min(offset + bytesInLine, utf8.Length);
    }

    private static (int Line, int Column) Position(byte[] utf8, long offset)
    {
        int line = 1;
        long lineStart = 0;
        for (long i = 0; i < offset; i++)
        {
            if (utf8[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        // Editors count characters, not bytes: one column per code point (a UTF-8 continuation byte adds none).
        int column = 1;
        for (long i = lineStart; i < offset; i++)
        {
            if ((utf8[i] & 0xC0) != 0x80)
            {
                column++;
            }
        }
        return (line, column);
    }
}
