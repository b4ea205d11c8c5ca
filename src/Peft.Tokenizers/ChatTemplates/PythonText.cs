using System.Globalization;
using System.Text;

namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Python's str methods where their rules differ from .NET's (whitespace set, code points, title case).</summary>
internal static class PythonText
{
    // str.isspace(): .NET's white space plus the information separators \x1c-\x1f, which Python also counts.
    public static bool IsWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static string RStripWhitespace(string text)
    {
        int end = text.Length;
        while (end > 0 && IsWhitespace(text[end - 1])) end--;
        return text[..end];
    }

    public static string Strip(string text, string? chars, bool left, bool right)
    {
        int start = 0, end = text.Length;
        Func<char, bool> strip = chars is null ? IsWhitespace : c => chars.Contains(c);
        if (left) while (start < end && strip(text[start])) start++;
        if (right) while (end > start && strip(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary>str.split(sep, maxsplit): no separator splits on whitespace runs and drops empty ends.</summary>
    public static List<object?> Split(string text, string? separator, long maxSplit)
    {
        var parts = new List<object?>();
        if (separator is null)
        {
            int i = 0;
            while (true)
            {
                while (i < text.Length && IsWhitespace(text[i])) i++;
                if (i >= text.Length) break;
                if (maxSplit >= 0 && parts.Count >= maxSplit)
                {
                    parts.Add(RStripWhitespace(text[i..]));
                    break;
                }
                int start = i;
                while (i < text.Length && !IsWhitespace(text[i])) i++;
                parts.Add(text[start..i]);
            }
            return parts;
        }
        if (separator.Length == 0) throw new ChatTemplateException("empty separator");
        int from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = text.IndexOf(separator, from, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(text[from..at]);
            from = at + separator.Length;
        }
        parts.Add(text[from..]);
        return parts;
    }

    public static List<object?> RSplit(string text, string? separator, long maxSplit)
    {
        if (separator is null || maxSplit < 0) return Split(text, separator, maxSplit);
        var parts = new List<object?>();
        int end = text.Length;
        while (parts.Count < maxSplit)
        {
            int at = end - separator.Length < 0 ? -1 : text.LastIndexOf(separator, end - 1, end, StringComparison.Ordinal);
            if (at < 0 || at + separator.Length > end) break;
            parts.Insert(0, text[(at + separator.Length)..end]);
            end = at;
        }
        parts.Insert(0, text[..end]);
        return parts;
    }

    /// <summary>str.upper() with Python's full mappings ("ß" becomes "SS").</summary>
    public static string Upper(string text) => MapRunes(text, upper: true);

    /// <summary>str.lower() with Python's full mappings.</summary>
    public static string Lower(string text) => MapRunes(text, upper: false);

    private static string TitleRune(Rune rune) =>
        PyCaseMappings.Title.TryGetValue(rune.Value, out var mapped) ? mapped : Rune.ToUpperInvariant(rune).ToString();

    private static string LowerRune(Rune rune) =>
        PyCaseMappings.Lower.TryGetValue(rune.Value, out var mapped) ? mapped : Rune.ToLowerInvariant(rune).ToString();

    private static string MapRunes(string text, bool upper)
    {
        if (text.All(char.IsAscii)) return upper ? text.ToUpperInvariant() : text.ToLowerInvariant();
        var special = upper ? PyCaseMappings.Upper : PyCaseMappings.Lower;
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (special.TryGetValue(rune.Value, out var mapped)) sb.Append(mapped);
            else sb.Append((upper ? Rune.ToUpperInvariant(rune) : Rune.ToLowerInvariant(rune)).ToString());
        }
        return sb.ToString();
    }

    /// <summary>str.title(): a cased letter after a cased letter is lowered, any other cased letter is title-cased.</summary>
    public static string Title(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool previousCased = false;
        foreach (var rune in text.EnumerateRunes())
        {
            bool cased = Rune.IsUpper(rune) || Rune.IsLower(rune) || Rune.GetUnicodeCategory(rune) == UnicodeCategory.TitlecaseLetter;
            if (cased) sb.Append(previousCased ? LowerRune(rune) : TitleRune(rune));
            else sb.Append(rune.ToString());
            previousCased = cased;
        }
        return sb.ToString();
    }

    /// <summary>str.capitalize(): the first character title-cased, the rest lower case.</summary>
    public static string Capitalize(string text)
    {
        if (text.Length == 0) return text;
        var first = Rune.GetRuneAt(text, 0);
        return TitleRune(first) + Lower(text[first.Utf16SequenceLength..]);
    }

    /// <summary>jinja2's title filter: each word (after spaces, '-', '(', '{', '[' or '&lt;') starts upper case, the rest lower.</summary>
    public static string UpperFirstLowerRest(string word)
    {
        if (word.Length == 0) return word;
        var first = Rune.GetRuneAt(word, 0);
        return Upper(first.ToString()) + Lower(word[first.Utf16SequenceLength..]);
    }

    /// <summary>str.splitlines(): Python's line boundaries, without the line ends.</summary>
    public static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        int start = 0, i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(text[start..i]);
                i += c == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                start = i;
            }
            else i++;
        }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    public static bool HasSurrogates(string text)
    {
        foreach (char c in text) if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>The string's code points as separate strings (Python indexes and iterates code points, not UTF-16 units).</summary>
    public static List<string> CodePoints(string text)
    {
        var result = new List<string>(text.Length);
        if (!HasSurrogates(text))
        {
            foreach (char c in text) result.Add(c.ToString());
            return result;
        }
        foreach (var rune in text.EnumerateRunes()) result.Add(rune.ToString());
        return result;
    }

    public static int Length(string text) => HasSurrogates(text) ? text.EnumerateRunes().Count() : text.Length;

    /// <summary>Ordinal comparison by code point (UTF-16 order differs above U+D7FF).</summary>
    public static int Compare(string a, string b)
    {
        if (!HasSurrogates(a) && !HasSurrogates(b)) return Math.Sign(string.CompareOrdinal(a, b));
        var ra = a.EnumerateRunes().GetEnumerator();
        var rb = b.EnumerateRunes().GetEnumerator();
        while (true)
        {
            bool hasA = ra.MoveNext(), hasB = rb.MoveNext();
            if (!hasA || !hasB) return hasA ? 1 : hasB ? -1 : 0;
            int c = ra.Current.Value.CompareTo(rb.Current.Value);
            if (c != 0) return Math.Sign(c);
        }
    }

    public static bool IsPrintable(Rune rune)
    {
        if (rune.Value == ' ') return true;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }
}
