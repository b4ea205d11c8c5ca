using Microsoft.ML.Tokenizers;
using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PromptTuning;
using PeftTokenizer = Peft.Tokenizers.Tokenizer;

namespace Peft.Tuners.Tests;

/// <summary>
/// A tiny GPT-2 on GPT-2's full vocabulary (50257 ids, width 32) driven by ML.NET's
/// TiktokenTokenizer (wrapped) and by our tokenizer.json one: the same prompt ids, TEXT
/// initialization and generated text.
/// </summary>
[TestClass]
public sealed class MLTokenizerGenerationTests
{
    private const string Prompt = "The quick brown fox, café and 🍕 —";

    private static string Gpt2Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (string candidate in (string[])[Path.Combine(dir.FullName, "shared", "fixtures", "tokenizers", "gpt2"),
                         Path.Combine(dir.FullName, "..", "shared", "fixtures", "tokenizers", "gpt2")])
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        throw new DirectoryNotFoundException("../shared/fixtures/tokenizers/gpt2 not found beside the repository.");
    }

    private static CausalLanguageModel TinyGpt2()
    {
        var config = ModelConfig.Parse("""
            {"model_type": "gpt2", "vocab_size": 50257, "n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 128,
             "eos_token_id": 50256, "bos_token_id": 50256}
            """, "tiny gpt2");
        var model = ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, 11);
        return model;
    }

    private static async Task<string> StreamText(CausalGenerator generator, PeftTokenizer tokenizer, GenerationOptions options)
    {
        var parts = new List<string>();
        await foreach (string part in generator.StreamTextAsync(tokenizer, Prompt, options)) parts.Add(part);
        return string.Concat(parts);
    }

    [TestMethod]
    public async Task TiktokenDrivesGenerationAsOurTokenizerDoes()
    {
        var ours = PeftTokenizer.Load(Gpt2Folder());
        var theirs = PeftTokenizer.FromMLTokenizer(TiktokenTokenizer.CreateForModel("gpt2"));
        var model = TinyGpt2();
        var options = new GenerationOptions { MaxNewTokens = 24 };
        var generator = new CausalGenerator(model);
        string expected = await StreamText(generator, ours, options);
        Assert.IsGreaterThan(0, expected.Length);
        Assert.AreEqual(expected, await StreamText(generator, theirs, options));

        // PEFT's TEXT initialization through either tokenizer, then generation through a PeftModel.
        var texts = new List<string>();
        foreach (var tokenizer in new[] { ours, theirs })
        {
            var peft = new PeftModel(TinyGpt2());
            peft.AddAdapter("prompt", new PromptTuningConfig
            {
                NumVirtualTokens = 6, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "Classify the mood of this review:",
            }, seed: 3, tokenize: text => tokenizer.Encode(text).Ids);
            var ids = tokenizer.Encode(Prompt).Ids;
            var decoder = tokenizer.CreateStreamingDecoder();
            var text = new System.Text.StringBuilder();
            await foreach (int id in peft.StreamAsync(IntTensor.FromArray([.. ids], 1, ids.Count), null, options with { EosTokenIds = [] }))
                text.Append(decoder.Add(id));
            text.Append(decoder.Flush());
            texts.Add(text.ToString());
        }
        Assert.AreEqual(texts[0], texts[1]);
        Assert.IsGreaterThan(0, texts[0].Length);
    }

    [TestMethod]
    public void StopStringsSeeTheWrappedTokenizersText()
    {
        var theirs = PeftTokenizer.FromMLTokenizer(TiktokenTokenizer.CreateForModel("gpt2"));
        var ours = PeftTokenizer.Load(Gpt2Folder());
        var generator = new CausalGenerator(TinyGpt2());
        var ids = ours.Encode(Prompt).Ids;
        var prompt = IntTensor.FromArray([.. ids], 1, ids.Count);
        var free = generator.Generate(prompt, null, new GenerationOptions { MaxNewTokens = 24, EosTokenIds = [] }).ToArray().Skip(ids.Count).ToArray();
        string text = ours.Decode(free);
        // Stop at a string that appears in the middle of the free-running text.
        string stop = text.Trim().Length >= 4 ? text.Trim()[..2] : text;
        var stopped = generator.Generate(prompt, null, new GenerationOptions
        {
            MaxNewTokens = 24, EosTokenIds = [], StopStrings = [stop], TextDecoder = generated => theirs.Decode(generated, skipSpecialTokens: true),
        }).ToArray().Skip(ids.Count).ToArray();
        Assert.IsLessThan(free.Length, stopped.Length + (text.EndsWith(stop, StringComparison.Ordinal) ? 1 : 0));
        StringAssert.Contains(theirs.Decode(stopped), stop);
    }
}
