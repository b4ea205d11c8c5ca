using System.Text;
using System.Text.Json;
using CsCheck;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// CsCheck generators of text for the tokenizer properties: Unicode scalar values from every plane,
/// weighted towards the characters that stress a byte-level pipeline (combining marks and what
/// NFC composes, whitespace and controls the split regex treats apart, 4-byte emoji with joiners,
/// CJK, Hangul jamo, private use, noncharacters). Uniform code points alone would be mostly
/// unassigned characters of planes 3 to 13.
/// </summary>
internal static class UnicodeTextGen
{
    /// <summary>Any scalar value: a code point of 0..10FFFF that is not a surrogate.</summary>
    public static Gen<int> AnyScalar { get; } = Gen.Int[0, 0x10FFFF - 0x800].Select(cp => cp >= 0xD800 ? cp + 0x800 : cp);

    /// <summary>C0/C1 controls and the whitespace of every kind (the pre-tokenizers' \s and [\r\n] classes).</summary>
    private static Gen<int> WhitespaceAndControls { get; } = Gen.Frequency<int>(
        (2, Gen.Int[0x00, 0x20]),
        (1, Gen.Int[0x7F, 0xA0]),
        (2, Gen.OneOf<int>(0x09, 0x0A, 0x0D, 0x20, 0x85, 0x1680, 0x2000, 0x200A, 0x200B, 0x200C, 0x200D, 0x2028, 0x2029, 0x202F, 0x205F,
            0x3000, 0xFEFF)));

    /// <summary>Characters NFC changes or composes: decomposable Latin/Greek, combining marks, singletons, Hangul jamo and syllables.</summary>
    private static Gen<int> ComposingText { get; } = Gen.Frequency<int>(
        (3, Gen.Int[0x0300, 0x036F]),  // combining diacritical marks
        (1, Gen.OneOf<int>(Gen.Int[0x1AB0, 0x1AFF], Gen.Int[0x1DC0, 0x1DFF], Gen.Int[0x20D0, 0x20FF], Gen.Int[0x0591, 0x05C7])),
        (3, Gen.OneOf<int>(Gen.Int[0x00C0, 0x024F], Gen.Int[0x1E00, 0x1EFF], Gen.Int[0x0370, 0x03FF])),
        (1, Gen.OneOf<int>(0x212B, 0x2126, 0x212A, 0x0340, 0x0344, 0x0958, 0x2ADC, 0x1D15E, 0xF900, 0x2F800, 0x0F73, 0x0345)),
        (2, Gen.OneOf<int>(Gen.Int[0x1100, 0x11FF], Gen.Int[0xAC00, 0xD7A3])),
        (1, Gen.OneOf<int>(Gen.Int[0x0900, 0x097F], Gen.Int[0x0B00, 0x0B7F], Gen.Int[0x3099, 0x309A], Gen.Int[0x3040, 0x30FF])));

    /// <summary>Emoji (4-byte UTF-8) and what joins them: ZWJ, variation selectors, skin tones, regional indicators.</summary>
    private static Gen<int> Emoji { get; } = Gen.Frequency<int>(
        (4, Gen.Int[0x1F300, 0x1FAFF]),
        (2, Gen.OneOf<int>(0x200D, 0xFE0F, 0xFE0E, 0x20E3)),
        (1, Gen.Int[0x1F3FB, 0x1F3FF]),
        (1, Gen.Int[0x1F1E6, 0x1F1FF]),
        (1, Gen.Int[0x2600, 0x27BF]));

    /// <summary>CJK of the BMP and of plane 2, and fullwidth forms.</summary>
    private static Gen<int> Cjk { get; } = Gen.Frequency<int>(
        (4, Gen.Int[0x4E00, 0x9FFF]),
        (1, Gen.Int[0x3400, 0x4DBF]),
        (1, Gen.Int[0x20000, 0x2A6DF]),
        (1, Gen.Int[0xFF00, 0xFFEF]));

    /// <summary>Private use (BMP and planes 15/16) and the 66 noncharacters (FDD0..FDEF, xFFFE/xFFFF of every plane).</summary>
    private static Gen<int> PrivateUseAndNoncharacters { get; } = Gen.Frequency<int>(
        (2, Gen.Int[0xE000, 0xF8FF]),
        (1, Gen.Int[0xF0000, 0x10FFFD]),
        (1, Gen.Int[0xFDD0, 0xFDEF]),
        (1, Gen.Select(Gen.Int[0, 16], Gen.Bool, (plane, last) => (plane << 16) | (last ? 0xFFFF : 0xFFFE))),
        (1, Gen.OneOf<int>(0xFFFD, 0xFFFC, 0xFFF9, 0xE0001, 0xE0020, 0xE007F)));

    /// <summary>One scalar value, from the groups above or anywhere.</summary>
    public static Gen<int> Scalar { get; } = Gen.Frequency<int>(
        (8, Gen.Int[0x20, 0x7E]),
        (3, WhitespaceAndControls),
        (4, ComposingText),
        (2, Emoji),
        (2, Cjk),
        (1, PrivateUseAndNoncharacters),
        (2, AnyScalar));

    /// <summary>A string of 0..<paramref name="maxScalars"/> scalar values (well-formed UTF-16).</summary>
    public static Gen<string> Text(int maxScalars = 40) => Scalar.Array[0, maxScalars].Select(FromScalars);

    public static string FromScalars(IEnumerable<int> scalars)
    {
        var text = new StringBuilder();
        foreach (int cp in scalars) text.Append(char.ConvertFromUtf32(cp));
        return text.ToString();
    }

    /// <summary>A failing input as a JSON string and its UTF-16 code units, so invisible and lone characters show.</summary>
    public static string Show(string text) =>
        $"{JsonSerializer.Serialize(text)} [{string.Join(' ', text.Select(c => ((int)c).ToString("X4")))}]";
}
