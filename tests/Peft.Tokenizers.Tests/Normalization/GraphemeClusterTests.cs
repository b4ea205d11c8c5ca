using System.Globalization;
using System.Text;
using Peft.Tokenizers.Normalization;

namespace Peft.Tokenizers.Tests.Normalization;

/// <summary>The library's grapheme clusters against the Unicode conformance file GraphemeBreakTest.txt.</summary>
[TestClass]
public sealed class GraphemeClusterTests
{
    [TestMethod]
    public void EveryBreakTestLineSplitsAsTheStandardSays()
    {
        var failures = new List<string>();
        int lines = 0;
        foreach (string line in File.ReadLines(NormalizationConformanceTests.DataFile("GraphemeBreakTest.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            // "÷ 0020 × 0308 ÷": clusters are the runs between ÷.
            var expected = new List<string>();
            var text = new StringBuilder();
            var cluster = new StringBuilder();
            foreach (string token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (token == "÷")
                {
                    if (cluster.Length > 0) expected.Add(cluster.ToString());
                    cluster.Clear();
                }
                else if (token != "×")
                {
                    string ch = char.ConvertFromUtf32(int.Parse(token, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    cluster.Append(ch);
                    text.Append(ch);
                }
            }
            var actual = new List<string>();
            string s = text.ToString();
            for (int i = 0; i < s.Length;)
            {
                int n = GraphemeClusters.NextLength(s.AsSpan(i));
                actual.Add(s.Substring(i, n));
                i += n;
            }
            if (!actual.SequenceEqual(expected))
                failures.Add($"{line}: got {string.Join(" | ", actual.Select(NormalizationConformanceTests.Hex))}");
            lines++;
        }
        Assert.IsGreaterThan(1000, lines);
        Assert.AreEqual(0, failures.Count, $"{failures.Count} lines differ:\n" + string.Join("\n", failures.Take(20)));
    }
}
