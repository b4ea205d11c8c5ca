using CsCheck;

namespace Peft.Tokenizers.Tests.Properties;

/// <summary>
/// The same inverse law on the mistral fixture, a SentencePiece-style BPE with byte fallback
/// (a character missing from the vocabulary becomes its UTF-8 byte tokens): the normalizer
/// prepends "▁" and turns spaces into "▁", the decoder turns every "▁" back into a space and
/// strips the one it prepended, so decode(encode(x)) is x with any "▁" (U+2581) of its own as a space.
/// </summary>
[TestClass]
public sealed class SentencePieceRoundTripProperties
{
    private const int Iterations = 3000;

    // Each streamed id decodes a short window twice: a third of the cases keeps it near the round trip's time.
    private const int StreamingIterations = 1000;

    [TestMethod]
    public void DecodeOfEncodeIsTheTextWithItsMetaspacesAsSpaces()
    {
        var tokenizer = TokenizerFixtureTests.Get("mistral");
        string[] added = ["<unk>", "<s>", "</s>"];
        UnicodeTextGen.Text().Where(x => !added.Any(a => x.Contains(a, StringComparison.Ordinal))).Sample(x =>
        {
            var ids = tokenizer.Encode(x, addSpecialTokens: false).Ids;
            string decoded = tokenizer.Decode(ids, skipSpecialTokens: false);
            Assert.AreEqual(UnicodeTextGen.Show(x.Replace('\u2581', ' ')), UnicodeTextGen.Show(decoded), $"mistral: ids [{string.Join(",", ids)}]");
        }, iter: Iterations, print: UnicodeTextGen.Show);
    }

    /// <summary>
    /// Streaming the ids one at a time gives Decode's text: byte-fallback pieces of one character are
    /// held back until it is whole, and only the sequence's first space is stripped, not each chunk's.
    /// </summary>
    [TestMethod]
    public void StreamingDecodeConcatenatesToDecode()
    {
        var tokenizer = TokenizerFixtureTests.Get("mistral");
        UnicodeTextGen.Text().Sample(x =>
        {
            var ids = tokenizer.Encode(x, addSpecialTokens: false).Ids;
            var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: false);
            var streamed = new System.Text.StringBuilder();
            foreach (int id in ids) streamed.Append(decoder.Add(id));
            streamed.Append(decoder.Flush());
            Assert.AreEqual(UnicodeTextGen.Show(tokenizer.Decode(ids, skipSpecialTokens: false)), UnicodeTextGen.Show(streamed.ToString()),
                $"mistral: ids [{string.Join(",", ids)}]");
        }, iter: StreamingIterations, print: UnicodeTextGen.Show);
    }
}
