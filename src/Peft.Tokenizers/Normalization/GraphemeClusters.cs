namespace Peft.Tokenizers.Normalization;

/// <summary>
/// Extended grapheme clusters (UAX #29) from this library's own tables, so cluster boundaries are
/// the same on every runtime (.NET 8 and 10 ship older Unicode data in StringInfo).
/// </summary>
internal static partial class GraphemeClusters
{
    private const int Other = 0, CR = 1, LF = 2, Control = 3, Extend = 4, Zwj = 5, RegionalIndicator = 6, Prepend = 7, SpacingMark = 8;
    private const int L = 9, V = 10, T = 11, LV = 12, LVT = 13;
    private const int Pictographic = 0x10;
    private const int ConjunctConsonant = 1, ConjunctExtend = 2, ConjunctLinker = 3;

    private static int Properties(int cp)
    {
        if (cp < Limit) return Stage2[(Stage1[cp >> Shift] << Shift) | (cp & ((1 << Shift) - 1))];
        var ranges = HighRanges;
        for (int i = 0; i < ranges.Length; i += 3)
            if (cp >= ranges[i] && cp <= ranges[i + 1]) return ranges[i + 2];
        return Other;
    }

    /// <summary>Length in UTF-16 units of the cluster that starts <paramref name="text"/> (0 when empty).</summary>
    public static int NextLength(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return 0;
        int i = CodePointLength(text, 0, out int cp);
        int previous = Properties(cp);
        // Rule state after the characters so far: GB9c (consonant, then extends and linkers: 1 without a linker yet, 2 with),
        // GB11 (pictographic, extends: 1; then a ZWJ: 2), GB12/13 (regional indicators in a row).
        int conjunct = 0, emoji = 0, regional = 0;
        Advance(previous, ref conjunct, ref emoji, ref regional);
        while (i < text.Length)
        {
            int length = CodePointLength(text, i, out cp);
            int current = Properties(cp);
            if (Breaks(previous, current, conjunct, emoji, regional)) break;
            Advance(current, ref conjunct, ref emoji, ref regional);
            previous = current;
            i += length;
        }
        return i;
    }

    private static bool Breaks(int previous, int current, int conjunct, int emoji, int regional)
    {
        int p = previous & 0xF, c = current & 0xF;
        if (p == CR && c == LF) return false;                                          // GB3
        if (p is CR or LF or Control || c is CR or LF or Control) return true;         // GB4, GB5
        if (p == L && c is L or V or LV or LVT) return false;                          // GB6
        if (p is LV or V && c is V or T) return false;                                 // GB7
        if (p is LVT or T && c == T) return false;                                     // GB8
        if (c is Extend or Zwj or SpacingMark || p == Prepend) return false;           // GB9, GB9a, GB9b
        if (conjunct == 2 && current >> 5 == ConjunctConsonant) return false;          // GB9c
        if (p == Zwj && emoji == 2 && (current & Pictographic) != 0) return false;     // GB11
        if (p == RegionalIndicator && c == RegionalIndicator && regional % 2 == 1) return false; // GB12, GB13
        return true;                                                                   // GB999
    }

    private static void Advance(int properties, ref int conjunct, ref int emoji, ref int regional)
    {
        int incb = properties >> 5, gcb = properties & 0xF;
        conjunct = incb == ConjunctConsonant ? 1
            : conjunct > 0 && incb == ConjunctLinker ? 2
            : conjunct > 0 && incb == ConjunctExtend ? conjunct
            : 0;
        emoji = (properties & Pictographic) != 0 ? 1
            : emoji == 1 && gcb == Extend ? 1
            : emoji == 1 && gcb == Zwj ? 2
            : 0;
        regional = gcb == RegionalIndicator ? regional + 1 : 0;
    }

    private static int CodePointLength(ReadOnlySpan<char> text, int index, out int cp)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            cp = char.ConvertToUtf32(c, text[index + 1]);
            return 2;
        }
        cp = c;
        return 1;
    }
}
