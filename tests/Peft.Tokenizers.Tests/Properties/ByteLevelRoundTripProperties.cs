using System.Text;
using CsCheck;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// Decode inverts encode on the byte-level tokenizers: every string of scalar values is bytes, every
/// byte has a token, and the decoder maps the bytes back, so decode(encode(x)) is x as the
/// normalizer leaves it (qwen3: NFC by Unicode 9.0, the tables Hugging Face's tokenizers use).
/// </summary>
[TestClass]
public sealed class ByteLevelRoundTripProperties
{
    // Each run draws a new seed; a failure prints it (CsCheck's "seed" in the message) for a rerun with CsCheck_Seed.
    private const int Iterations = 3000;

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void DecodeOfEncodeIsTheNormalizedText(string name)
    {
        var fixture = ByteLevelFixture.Get(name);
        UnicodeTextGen.Text().Where(x => !fixture.ContainsAddedToken(x)).Sample(x =>
        {
            var ids = fixture.Tokenizer.Encode(x, addSpecialTokens: false).Ids;
            string decoded = fixture.Tokenizer.Decode(ids, skipSpecialTokens: false);
            Assert.AreEqual(UnicodeTextGen.Show(fixture.Normalized(x)), UnicodeTextGen.Show(decoded), $"{name}: ids [{string.Join(",", ids)}]");
        }, iter: Iterations, print: UnicodeTextGen.Show);
    }

    /// <summary>
    /// An added token's text encodes to its id (not through the normalizer or the model) and decodes
    /// back verbatim; skipping special tokens drops exactly the special ones. The segments between
    /// tokens normalize apart: NFC does not compose a combining mark after "&gt;" of a token.
    /// </summary>
    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void AddedTokenTextsDecodeVerbatim(string name)
    {
        var fixture = ByteLevelFixture.Get(name);
        TextWithAddedTokens.Generate(fixture).Sample(x =>
        {
            var ids = fixture.Tokenizer.Encode(x.Text, addSpecialTokens: false).Ids;
            string label = $"{name}: ids [{string.Join(",", ids)}]";
            Assert.AreEqual(UnicodeTextGen.Show(x.Decoded(fixture.Normalized, keepSpecial: true)),
                UnicodeTextGen.Show(fixture.Tokenizer.Decode(ids, skipSpecialTokens: false)), label);
            Assert.AreEqual(UnicodeTextGen.Show(x.Decoded(fixture.Normalized, keepSpecial: false)),
                UnicodeTextGen.Show(fixture.Tokenizer.Decode(ids, skipSpecialTokens: true)), label + " (special tokens skipped)");
        }, iter: Iterations, print: x => x.ToString());
    }

    /// <summary>
    /// A .NET string may hold an unpaired surrogate, which is no scalar value and has no UTF-8 bytes:
    /// the tokenizer encodes it as U+FFFD (what Encoding.UTF8 writes for it), so the law is
    /// decode(encode(x)) == normalized(x with each unpaired surrogate replaced by U+FFFD); a high
    /// surrogate followed by a low one is a pair, whichever way the text was put together.
    /// </summary>
    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama3")]
    [DataRow("qwen3")]
    public void UnpairedSurrogatesDecodeAsReplacementCharacters(string name)
    {
        var fixture = ByteLevelFixture.Get(name);
        var unit = Gen.Frequency<string>(
            (3, UnicodeTextGen.Scalar.Select(char.ConvertFromUtf32)),
            (1, Gen.Char[(char)0xD800, (char)0xDFFF].Select(c => c.ToString())));
        unit.Array[1, 30].Select(string.Concat).Where(x => !fixture.ContainsAddedToken(x)).Sample(x =>
        {
            var ids = fixture.Tokenizer.Encode(x, addSpecialTokens: false).Ids;
            string decoded = fixture.Tokenizer.Decode(ids, skipSpecialTokens: false);
            Assert.AreEqual(UnicodeTextGen.Show(fixture.Normalized(UnpairedSurrogatesReplaced(x))), UnicodeTextGen.Show(decoded),
                $"{name}: ids [{string.Join(",", ids)}]");
        }, iter: Iterations, print: UnicodeTextGen.Show);
    }

    /// <summary><paramref name="text"/> with every surrogate that is not half of a high-low pair replaced by U+FFFD.</summary>
    private static string UnpairedSurrogatesReplaced(string text)
    {
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Append(text, i, 2);
                i++;
            }
            else result.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
        }
        return result.ToString();
    }
}
