namespace Peft.Tokenizers.Normalization;

/// <summary>
/// Reads the generated normalization tables (UnicodeNormalizationData.g.cs): per code point its
/// canonical combining class, flags, full decompositions, and the primary composites.
/// </summary>
internal static partial class UnicodeNormalizationData
{
    public const int CombinesBack = 1 << 8;
    public const int BoundaryNfd = 1 << 9, BoundaryNfkd = 1 << 10, BoundaryNfc = 1 << 11, BoundaryNfkc = 1 << 12;
    public const int QuickNfd = 1 << 13, QuickNfkd = 1 << 14, QuickNfc = 1 << 15, QuickNfkc = 1 << 16;

    private const int HangulS = 0xAC00, HangulL = 0x1100, HangulV = 0x1161, HangulT = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>Age code of Unicode 9.0, the version of Hugging Face's Rust tokenizers' normalization tables (crate unicode-normalization-alignments).</summary>
    public const int HuggingFaceAge = 0;

    /// <summary>The Unicode version of an age code.</summary>
    public static string AgeVersion(int age) => AgeVersions[age];

    /// <summary>
    /// The packed record of <paramref name="cp"/> as Unicode version <paramref name="maxAge"/> had it: a
    /// character assigned later gets the default (normalization data of assigned characters never
    /// changes, so an older version's tables are these without the younger characters). A lone
    /// surrogate gets the default.
    /// </summary>
    public static ulong Record(int cp, int maxAge = LatestAge)
    {
        if ((uint)cp >= Limit) return Records[0];
        int block = Stage1[cp >> Shift];
        ulong record = Records[Stage2[(block << Shift) | (cp & ((1 << Shift) - 1))]];
        return (int)(record >> 59) <= maxAge ? record : Records[0];
    }

    public static int Ccc(ulong record) => (int)(record & 0xFF);

    public static int Ccc(int cp, int maxAge = LatestAge) => Ccc(Record(cp, maxAge));

    public static bool IsHangulSyllable(int cp) => (uint)(cp - HangulS) < SCount;

    /// <summary>Length in UTF-16 units of the full decomposition in the record (0: none, or a Hangul syllable).</summary>
    public static int DecompositionLength(ulong record, bool compatibility) =>
        compatibility ? (int)(record >> 54) & 0x1F : (int)(record >> 33) & 0x1F;

    /// <summary>Writes the full decomposition of <paramref name="cp"/> (itself when none) and returns its length in code points (at most 31).</summary>
    public static int Decompose(int cp, ulong record, bool compatibility, Span<int> destination)
    {
        if (IsHangulSyllable(cp))
        {
            int s = cp - HangulS;
            destination[0] = HangulL + s / NCount;
            destination[1] = HangulV + s % NCount / TCount;
            if (s % TCount == 0) return 2;
            destination[2] = HangulT + s % TCount;
            return 3;
        }
        int offset = compatibility ? (int)(record >> 38) & 0xFFFF : (int)(record >> 17) & 0xFFFF;
        int length = DecompositionLength(record, compatibility);
        if (length == 0)
        {
            destination[0] = cp;
            return 1;
        }
        var units = Pool.AsSpan(offset, length);
        int n = 0;
        for (int i = 0; i < units.Length; i++)
        {
            char c = units[i];
            if (char.IsHighSurrogate(c) && i + 1 < units.Length && char.IsLowSurrogate(units[i + 1]))
                destination[n++] = char.ConvertToUtf32(c, units[++i]);
            else
                destination[n++] = c;
        }
        return n;
    }

    /// <summary>The primary composite of <paramref name="first"/> and <paramref name="second"/> (Hangul included) that version <paramref name="maxAge"/> has, or -1.</summary>
    public static int Compose(int first, int second, int maxAge = LatestAge)
    {
        if ((uint)(first - HangulL) < LCount && (uint)(second - HangulV) < VCount)
            return HangulS + ((first - HangulL) * VCount + second - HangulV) * TCount;
        if (IsHangulSyllable(first) && (first - HangulS) % TCount == 0 && (uint)(second - HangulT - 1) < TCount - 1)
            return first + second - HangulT;
        ulong key = ((ulong)(uint)first << 21) | (uint)second;
        var keys = CompositionKeys;
        int lo = 0, hi = keys.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (keys[mid] == key) return (int)(Record(Composites[mid]) >> 59) <= maxAge ? Composites[mid] : -1;
            if (keys[mid] < key) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }
}
