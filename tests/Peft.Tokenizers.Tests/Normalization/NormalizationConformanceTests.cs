using System.Globalization;
using System.Text;
using Peft.Tokenizers.Normalization;

namespace Peft.Tokenizers.Tests.Normalization;

/// <summary>The Unicode conformance file (a subset of NormalizationTest.txt, see the generator) against the library's own tables.</summary>
[TestClass]
public sealed class NormalizationConformanceTests
{
    private static readonly NormalizationForm[] Forms = [NormalizationForm.FormC, NormalizationForm.FormD, NormalizationForm.FormKC, NormalizationForm.FormKD];

    internal static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Normalization", name);

    private static string Decode(string field, string source) => field.Length == 0
        ? source
        : string.Concat(field.Split(' ').Select(h => char.ConvertFromUtf32(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));

    [TestMethod]
    public void EveryConformanceLineHoldsItsInvariants()
    {
        var failures = new List<string>();
        var partOne = new HashSet<int>();
        string part = "";
        int lines = 0;
        foreach (string line in File.ReadLines(DataFile("NormalizationTest.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            if (line.StartsWith('@'))
            {
                part = line;
                continue;
            }
            var f = line.Split(';');
            string c1 = Decode(f[0], ""), c2 = Decode(f[1], c1), c3 = Decode(f[2], c1), c4 = Decode(f[3], c1), c5 = Decode(f[4], c1);
            if (part == "@Part1") partOne.Add(char.ConvertToUtf32(c1, 0));
            void Expect(string expected, NormalizationForm form, params string[] inputs)
            {
                foreach (string input in inputs)
                {
                    string actual = UnicodeNormalization.Normalize(input, form);
                    if (actual != expected) failures.Add($"{line}: {form}({Hex(input)}) = {Hex(actual)}, expected {Hex(expected)}");
                }
            }
            Expect(c2, NormalizationForm.FormC, c1, c2, c3);
            Expect(c4, NormalizationForm.FormC, c4, c5);
            Expect(c3, NormalizationForm.FormD, c1, c2, c3);
            Expect(c5, NormalizationForm.FormD, c4, c5);
            Expect(c4, NormalizationForm.FormKC, c1, c2, c3, c4, c5);
            Expect(c5, NormalizationForm.FormKD, c1, c2, c3, c4, c5);
            lines++;
        }
        Assert.IsGreaterThan(8000, lines);

        // Characters part 1 does not list are unchanged by every form (Hangul syllables were thinned out of the file).
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || partOne.Contains(cp) || cp is >= 0xAC00 and <= 0xD7A3) continue;
            string s = char.ConvertFromUtf32(cp);
            foreach (var form in Forms)
                if (UnicodeNormalization.Normalize(s, form) != s) failures.Add($"{form}(U+{cp:X4}) changed a character part 1 does not list");
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(20)));
    }

    [TestMethod]
    public void HangulSyllablesDecomposeAndRecomposeByArithmetic()
    {
        for (int s = 0xAC00; s <= 0xD7A3; s++)
        {
            string syllable = char.ConvertFromUtf32(s);
            int index = s - 0xAC00;
            string jamo = $"{(char)(0x1100 + index / 588)}{(char)(0x1161 + index % 588 / 28)}" + (index % 28 == 0 ? "" : ((char)(0x11A7 + index % 28)).ToString());
            Assert.AreEqual(jamo, UnicodeNormalization.Normalize(syllable, NormalizationForm.FormD));
            Assert.AreEqual(syllable, UnicodeNormalization.Normalize(jamo, NormalizationForm.FormC));
            Assert.AreEqual(syllable, UnicodeNormalization.Normalize(jamo, NormalizationForm.FormKC));
        }
    }

    [TestMethod]
    public void UnchangedTextIsReturnedAsIs()
    {
        foreach (string s in new[] { "", "plain ascii", "déjà vu", "한국어", "日本語" })
            Assert.AreSame(s, UnicodeNormalization.Normalize(s, NormalizationForm.FormC));
    }

    [TestMethod]
    public void LoneSurrogatesPassThrough()
    {
        Assert.AreEqual("a\uD800e\u0301\uDC00", UnicodeNormalization.Normalize("a\uD800\u00E9\uDC00", NormalizationForm.FormD));
        Assert.AreEqual("\uD800\u00E9\uDC00", UnicodeNormalization.Normalize("\uD800e\u0301\uDC00", NormalizationForm.FormC));
        Assert.AreEqual("\u0301\uDC00", UnicodeNormalization.Normalize("\u0301\uDC00", NormalizationForm.FormKC));
    }

    [TestMethod]
    public void LongRunsOfMarksAreOrderedStablyAndQuickly()
    {
        // 'a' then 20000 marks alternating classes 230 and 220 (and two 230s in a row, whose order must stay).
        var text = new StringBuilder("a");
        for (int k = 0; k < 5000; k++) text.Append("\u0301\u0316\u0300\u0317");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string nfd = UnicodeNormalization.Normalize(text.ToString(), NormalizationForm.FormD);
        string nfc = UnicodeNormalization.Normalize(text.ToString(), NormalizationForm.FormC);
        watch.Stop();
        var below = string.Concat(Enumerable.Repeat("\u0316\u0317", 5000));
        var above = string.Concat(Enumerable.Repeat("\u0301\u0300", 5000));
        Assert.AreEqual("a" + below + above, nfd);
        Assert.AreEqual("\u00E1" + below + above[1..], nfc);
        Assert.IsLessThan(2000, watch.ElapsedMilliseconds, "ordering 20000 marks");
    }

    internal static string Hex(string s)
    {
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
            b.Append(b.Length == 0 ? "" : " ").Append(char.ConvertToUtf32(s, i).ToString("X4", CultureInfo.InvariantCulture));
        return b.ToString();
    }
}
