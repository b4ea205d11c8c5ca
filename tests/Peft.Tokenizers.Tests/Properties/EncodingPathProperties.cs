using CsCheck;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// The tokenizer's other paths agree with Encode and Decode on any text: the ids-only encoding
/// behind ML.NET's EncodeToIds and CountTokens (a fast path without offsets or token strings), and
/// the streaming decoder that generation feeds one id at a time.
/// </summary>
[TestClass]
public sealed class EncodingPathProperties
{
    private const int Iterations = 3000;

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void IdsOnlyEncodingEqualsEncode(string name)
    {
        var fixture = ByteLevelFixture.Get(name);
        var mlTokenizer = (MLTokenizer)fixture.Tokenizer;
        TextWithAddedTokens.Generate(fixture).Sample(x =>
        {
            var expected = fixture.Tokenizer.Encode(x.Text, addSpecialTokens: false).Ids;
            var ids = mlTokenizer.EncodeToIds(x.Text);
            Assert.AreEqual(string.Join(",", expected), string.Join(",", ids), $"{name}: EncodeToIds");
            Assert.AreEqual(expected.Count, mlTokenizer.CountTokens(x.Text), $"{name}: CountTokens");
        }, iter: Iterations, print: x => x.ToString());
    }

    /// <summary>Text released by Add, one id at a time, then Flush, concatenates to Decode of all the ids (special tokens kept or skipped alike).</summary>
    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void StreamingDecodeConcatenatesToDecode(string name)
    {
        var fixture = ByteLevelFixture.Get(name);
        Gen.Select(TextWithAddedTokens.Generate(fixture), Gen.Bool).Sample((x, skipSpecialTokens) =>
        {
            var ids = fixture.Tokenizer.Encode(x.Text, addSpecialTokens: false).Ids;
            var decoder = fixture.Tokenizer.CreateStreamingDecoder(skipSpecialTokens);
            var streamed = new System.Text.StringBuilder();
            foreach (int id in ids) streamed.Append(decoder.Add(id));
            streamed.Append(decoder.Flush());
            Assert.AreEqual(UnicodeTextGen.Show(fixture.Tokenizer.Decode(ids, skipSpecialTokens)), UnicodeTextGen.Show(streamed.ToString()),
                $"{name}: ids [{string.Join(",", ids)}], skipSpecialTokens {skipSpecialTokens}");
        }, iter: Iterations, print: t => $"{t.Item1} (skipSpecialTokens {t.Item2})");
    }
}
