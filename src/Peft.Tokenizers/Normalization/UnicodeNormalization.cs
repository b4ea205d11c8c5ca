using System.Buffers;
using System.Text;
using static Peft.Tokenizers.Normalization.UnicodeNormalizationData;

namespace Peft.Tokenizers.Normalization;

/// <summary>
/// The Unicode normalization forms (UAX #15) from this library's own tables, so results are the
/// same with or without ICU and in .NET's invariant globalization mode: full (recursive)
/// decomposition, canonical ordering by combining class, canonical composition with blocking and
/// exclusions, Hangul by arithmetic. Text is cut into segments at characters that nothing before
/// them can reorder or compose with; each segment normalizes on its own.
/// </summary>
internal static class UnicodeNormalization
{
    /// <summary>Segments that decompose to at most this many code points use stack buffers.</summary>
    private const int StackCodePoints = 256;

    /// <summary>Runs of marks up to this long are sorted by insertion; longer ones by key, so text of thousands of marks stays linearithmic.</summary>
    private const int InsertionSortRun = 32;

    /// <summary>Receives each segment: unchanged (keep the original characters) or its normalized text.</summary>
    internal interface ISegmentSink
    {
        void Unchanged(int from, int to);

        void Changed(ReadOnlySpan<char> normalized, int from, int to);
    }

    /// <summary>The table flags and steps of one form.</summary>
    private readonly record struct Form(int Boundary, int Quick, bool Compatibility, bool Compose, int MaxAge);

    private static Form Of(NormalizationForm form, int maxAge)
    {
        if ((uint)maxAge > LatestAge) throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, "Unknown Unicode age code.");
        return form switch
        {
            NormalizationForm.FormC => new(BoundaryNfc, QuickNfc, false, true, maxAge),
            NormalizationForm.FormD => new(BoundaryNfd, QuickNfd, false, false, maxAge),
            NormalizationForm.FormKC => new(BoundaryNfkc, QuickNfkc, true, true, maxAge),
            NormalizationForm.FormKD => new(BoundaryNfkd, QuickNfkd, true, false, maxAge),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown normalization form."),
        };
    }

    /// <summary>The normalized form of <paramref name="text"/> by the Unicode version of age code <paramref name="maxAge"/> (default: the tables' own); the same instance when nothing changes.</summary>
    public static string Normalize(string text, NormalizationForm form, int maxAge = LatestAge)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (QuickLength(text, form, maxAge) == text.Length) return text;
        var sink = new StringSink(text, new StringBuilder(text.Length + 8));
        Run(text, form, maxAge, ref sink);
        return sink.Builder.ToString();
    }

    /// <summary>Length of the prefix whose characters are starters the form keeps as they are (quick check yes).</summary>
    public static int QuickLength(ReadOnlySpan<char> text, NormalizationForm form, int maxAge = LatestAge)
    {
        int quick = Of(form, maxAge).Quick;
        int i = 0;
        while (i < text.Length)
        {
            // Below U+00A0 nothing decomposes, reorders or composes backwards.
            if (text[i] < '\u00A0')
            {
                i++;
                continue;
            }
            int cp = CodePointAt(text, i, out int length);
            ulong record = Record(cp, maxAge);
            if ((record & (ulong)quick) == 0 || Ccc(record) != 0) return i;
            i += length;
        }
        return text.Length;
    }

    /// <summary>Normalizes <paramref name="text"/> segment by segment into <paramref name="sink"/>.</summary>
    public static void Run<TSink>(ReadOnlySpan<char> text, NormalizationForm form, int maxAge, ref TSink sink) where TSink : struct, ISegmentSink
    {
        var f = Of(form, maxAge);
        int start = QuickLength(text, form, maxAge);
        if (start == text.Length)
        {
            if (text.Length > 0) sink.Unchanged(0, text.Length);
            return;
        }
        // The character before the first slow one is quick, so a boundary: the slow one's segment starts there unless it is one itself.
        if (start > 0 && (Record(CodePointAt(text, start, out _), maxAge) & (ulong)f.Boundary) == 0)
            start -= char.IsLowSurrogate(text[start - 1]) && start > 1 && char.IsHighSurrogate(text[start - 2]) ? 2 : 1;
        // Unchanged characters from `kept` on are handed over in one piece when a change (or the end) comes.
        int kept = 0;
        Span<int> stackCodePoints = stackalloc int[StackCodePoints];
        Span<char> stackChars = stackalloc char[2 * StackCodePoints];
        int i = start;
        while (i < text.Length)
        {
            int end = SegmentEnd(text, i, f);
            var segment = text[i..end];
            int cp = CodePointAt(text, i, out int length);
            ulong record = Record(cp, maxAge);
            if (length == segment.Length && (record & (ulong)f.Quick) != 0 && Ccc(record) == 0)
            {
                i = end;
                continue;
            }
            int bound = DecomposedBound(segment, f);
            int[]? rentedCodePoints = null;
            char[]? rentedChars = null;
            // Long segments (a base with very many marks) get buffers of their exact bound.
            var codePoints = bound <= StackCodePoints ? stackCodePoints : rentedCodePoints = ArrayPool<int>.Shared.Rent(bound);
            var chars = bound <= StackCodePoints ? stackChars : rentedChars = ArrayPool<char>.Shared.Rent(2 * bound);
            int written = NormalizeSegment(segment, f, codePoints, chars);
            if (!chars[..written].SequenceEqual(segment))
            {
                if (kept < i) sink.Unchanged(kept, i);
                sink.Changed(chars[..written], i, end);
                kept = end;
            }
            if (rentedCodePoints is not null) ArrayPool<int>.Shared.Return(rentedCodePoints);
            if (rentedChars is not null) ArrayPool<char>.Shared.Return(rentedChars);
            i = end;
        }
        if (kept < text.Length) sink.Unchanged(kept, text.Length);
    }

    /// <summary>At least the number of code points the segment decomposes to.</summary>
    private static int DecomposedBound(ReadOnlySpan<char> segment, Form f)
    {
        int bound = 0;
        for (int i = 0; i < segment.Length;)
        {
            int cp = CodePointAt(segment, i, out int length);
            bound += IsHangulSyllable(cp) ? 3 : Math.Max(1, DecompositionLength(Record(cp, f.MaxAge), f.Compatibility));
            i += length;
        }
        return bound;
    }

    /// <summary>End of the segment that starts at <paramref name="start"/>: the next character with a boundary before it.</summary>
    private static int SegmentEnd(ReadOnlySpan<char> text, int start, Form f)
    {
        CodePointAt(text, start, out int length);
        int i = start + length;
        while (i < text.Length)
        {
            if (text[i] < '\u00A0') break;
            int cp = CodePointAt(text, i, out length);
            if ((Record(cp, f.MaxAge) & (ulong)f.Boundary) != 0) break;
            i += length;
        }
        return i;
    }

    /// <summary>Decomposes, orders and (for C and KC) composes one segment; returns the UTF-16 length written.</summary>
    private static int NormalizeSegment(ReadOnlySpan<char> segment, Form f, Span<int> codePoints, Span<char> destination)
    {
        int n = 0;
        for (int i = 0; i < segment.Length;)
        {
            int cp = CodePointAt(segment, i, out int length);
            n += Decompose(cp, Record(cp, f.MaxAge), f.Compatibility, codePoints[n..]);
            i += length;
        }
        var cps = codePoints[..n];
        Reorder(cps, f.MaxAge);
        if (f.Compose) cps = cps[..Compose(cps, f.MaxAge)];
        int w = 0;
        foreach (int cp in cps)
        {
            if (cp < 0x10000)
            {
                destination[w++] = (char)cp;
            }
            else
            {
                destination[w++] = (char)(0xD7C0 + (cp >> 10));
                destination[w++] = (char)(0xDC00 | (cp & 0x3FF));
            }
        }
        return w;
    }

    /// <summary>Canonical ordering: a stable sort of each run of non-starters by combining class.</summary>
    private static void Reorder(Span<int> cps, int maxAge)
    {
        int i = 0;
        while (i < cps.Length)
        {
            if (Ccc(cps[i], maxAge) == 0)
            {
                i++;
                continue;
            }
            int j = i + 1;
            while (j < cps.Length && Ccc(cps[j], maxAge) != 0) j++;
            if (j - i > 1) SortRun(cps[i..j], maxAge);
            i = j;
        }
    }

    private static void SortRun(Span<int> run, int maxAge)
    {
        if (run.Length <= InsertionSortRun)
        {
            for (int i = 1; i < run.Length; i++)
            {
                int cp = run[i];
                int ccc = Ccc(cp, maxAge);
                int j = i;
                while (j > 0 && Ccc(run[j - 1], maxAge) > ccc)
                {
                    run[j] = run[j - 1];
                    j--;
                }
                run[j] = cp;
            }
            return;
        }
        // Keys (class, position) are unique, so an unstable sort of them is the stable order.
        long[] keys = ArrayPool<long>.Shared.Rent(run.Length);
        int[] copy = ArrayPool<int>.Shared.Rent(run.Length);
        for (int i = 0; i < run.Length; i++)
        {
            keys[i] = ((long)Ccc(run[i], maxAge) << 32) | (uint)i;
            copy[i] = run[i];
        }
        keys.AsSpan(0, run.Length).Sort();
        for (int i = 0; i < run.Length; i++) run[i] = copy[(int)(keys[i] & 0xFFFFFFFF)];
        ArrayPool<long>.Shared.Return(keys);
        ArrayPool<int>.Shared.Return(copy);
    }

    /// <summary>Canonical composition in place; returns the new length.</summary>
    private static int Compose(Span<int> cps, int maxAge)
    {
        int starter = -1, lastCcc = 0, w = 0;
        foreach (int cp in cps)
        {
            ulong record = Record(cp, maxAge);
            int ccc = Ccc(record);
            // Blocked unless next to the starter, or every mark between has a lower, non-zero class (they are ordered: the last one decides).
            if (starter >= 0 && (record & CombinesBack) != 0 && (w == starter + 1 || (lastCcc != 0 && lastCcc < ccc)))
            {
                int composite = UnicodeNormalizationData.Compose(cps[starter], cp, maxAge);
                if (composite >= 0)
                {
                    cps[starter] = composite;
                    continue;
                }
            }
            cps[w++] = cp;
            if (ccc == 0) starter = w - 1;
            lastCcc = ccc;
        }
        return w;
    }

    /// <summary>The code point at <paramref name="index"/>; a lone surrogate stands for itself.</summary>
    private static int CodePointAt(ReadOnlySpan<char> text, int index, out int length)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }
        length = 1;
        return c;
    }

    private readonly struct StringSink(string text, StringBuilder builder) : ISegmentSink
    {
        public StringBuilder Builder => builder;

        public void Unchanged(int from, int to) => builder.Append(text, from, to - from);

        public void Changed(ReadOnlySpan<char> normalized, int from, int to) => builder.Append(normalized);
    }
}
