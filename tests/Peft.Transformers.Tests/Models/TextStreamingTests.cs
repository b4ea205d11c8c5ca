using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class TextStreamingTests
{
    private static string TokenizerFolder(string name) => Path.Combine(Fixtures.Root, "tokenizers", name);

    [TestMethod]
    public async Task StreamedTextEqualsTheDecodedGeneration()
    {
        // The tiny GPT-2 fixture's 128 ids are single byte-level tokens of the real GPT-2 tokenizer.
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var tokenizer = Tokenizer.Load(TokenizerFolder("gpt2"));
        var generator = new CausalGenerator(model);
        var options = new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [] };
        var chunks = new List<string>();
        await foreach (string chunk in generator.StreamTextAsync(tokenizer, "!", options)) chunks.Add(chunk);
        var ids = generator.Generate(Tensors.IntTensor.FromArray([0], 1, 1), null, options).ToArray().Skip(1).ToArray();
        Assert.AreEqual(tokenizer.Decode(ids, skipSpecialTokens: true), string.Concat(chunks));
        Assert.IsTrue(chunks.All(c => c.Length > 0));
    }
}
