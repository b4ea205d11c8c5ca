using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Tokenizers;
using Peft.MLNet.Generation;
using Peft.MLNet.Runtime;
using Peft.Tokenizers.Interop;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;

namespace Peft.MLNet.Tests;

/// <summary>
/// The estimators with a Microsoft.ML.Tokenizers tokenizer supplied in code: ML.NET's
/// TiktokenTokenizer for GPT-2 on a tiny GPT-2 with GPT-2's whole vocabulary trains the same
/// adapter and generates the same text as the folder's tokenizer.json does; a saved model needs
/// the tokenizer registered again and says so; a folder with no tokenizer.json works.
/// </summary>
// Its tests clear and fill the process-wide registries (PeftBaseModels, RuntimeCache): run in parallel, the other test's
// Fit registered the tokenizer again between a Clear and the load that must fail without it.
[TestClass]
[DoNotParallelize]
public sealed class SuppliedTokenizerTests
{
    private static readonly LoraConfig EveryLinear = new() { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc", "c_proj") };

    private static string FixtureGpt2Tokenizer()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "fixtures", "tokenizers", "gpt2");
            if (File.Exists(Path.Combine(candidate, "tokenizer.json"))) return Path.GetFullPath(candidate);
        }
        throw new FileNotFoundException("../shared/fixtures/tokenizers/gpt2/tokenizer.json not found beside the repository.");
    }

    /// <summary>A 2-layer, width-32 GPT-2 on the 50257-id vocabulary, with or without GPT-2's tokenizer.json.</summary>
    private static string Gpt2VocabularyBase(bool withTokenizerJson)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"peft-mlnet-tiktoken-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var config = ModelConfig.Parse("""
            {"model_type": "gpt2", "vocab_size": 50257, "n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 128,
             "eos_token_id": 50256, "bos_token_id": 50256}
            """, "tiny gpt2 on GPT-2's vocabulary");
        var model = ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, 5);
        ModelLoader.Save(model, folder);
        if (withTokenizerJson)
            foreach (string file in (string[])["tokenizer.json", "tokenizer_config.json"])
                File.Copy(Path.Combine(FixtureGpt2Tokenizer(), file), Path.Combine(folder, file));
        return folder;
    }

    private static PeftTextGenerationTrainer.Options Options(string folder, Tokenizer? tokenizer) => new()
    {
        BaseModelFolder = folder, Method = EveryLinear, Epochs = 40, BatchSize = 6, LearningRate = 1e-2f,
        Generation = new Peft.Transformers.Generation.GenerationOptions { MaxNewTokens = 4 },
        Tokenizer = tokenizer,
        // GPT-2's eos (and pad) is <|endoftext|>, which TiktokenTokenizer knows as a special token but does not name as eos.
        TokenizerSpecialTokens = tokenizer is null ? null : new MLTokenizerOptions { EosTokenId = 50256, PadTokenId = 50256 },
    };

    private static string[] Generated(IDataView scored) => scored.GetColumn<string>("GeneratedText").ToArray();

    private static void AssertAsksForRegistration(Exception thrown)
    {
        var chain = new List<Exception>();
        for (Exception? x = thrown; x is not null; x = x.InnerException) chain.Add(x);
        Assert.IsTrue(chain.Any(e => e is InvalidOperationException && e.Message.Contains("PeftBaseModels.RegisterTokenizer", StringComparison.Ordinal)),
            string.Join(" | ", chain.Select(e => e.Message)));
    }

    [TestMethod]
    public void TiktokenTrainsAndGeneratesAsTheFoldersTokenizerJsonDoes()
    {
        string folder = Gpt2VocabularyBase(withTokenizerJson: true);
        try
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Colours.Rows);
            var withJson = ml.Transforms.Text.PeftTextGeneration(Options(folder, null)).Fit(data);
            var tiktoken = TiktokenTokenizer.CreateForModel("gpt2");
            var withTiktoken = ml.Transforms.Text.PeftTextGeneration(Options(folder, tiktoken)).Fit(data);

            var expected = Generated(withJson.Transform(data));
            Assert.IsTrue(expected.Any(t => t.Length > 0), "the model generates text");
            CollectionAssert.AreEqual(expected, Generated(withTiktoken.Transform(data)), "same ids in training, so the same adapter and text");
            Assert.AreEqual(expected[2], withTiktoken.Generate(Colours.Rows[2].Prompt));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void ASavedModelFindsItsSuppliedTokenizerOnlyOnceRegistered()
    {
        string folder = Gpt2VocabularyBase(withTokenizerJson: false);
        try
        {
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(Colours.Rows);
            var tokenizer = TiktokenTokenizer.CreateForModel("gpt2");
            var model = ml.Transforms.Text.PeftTextGeneration(Options(folder, tokenizer)).Fit(data);
            var generated = Generated(model.Transform(data));
            string zip = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, data.Schema, zip);

            // A fresh process: no live models, nothing registered.
            RuntimeCache.Clear();
            PeftBaseModels.Clear();
            var loaded = new MLContext().Model.Load(zip, out _);
            // ML.NET wraps what a mapping throws in its cursor's exception; ours is inside.
            AssertAsksForRegistration(Assert.Throws<Exception>(() => Generated(loaded.Transform(data))));

            // Another tokenizer (no eos given) is not taken for it.
            PeftBaseModels.RegisterTokenizer(TiktokenTokenizer.CreateForModel("gpt2"));
            AssertAsksForRegistration(Assert.Throws<Exception>(() => Generated(new MLContext().Model.Load(zip, out _).Transform(data))));

            PeftBaseModels.RegisterTokenizer(TiktokenTokenizer.CreateForModel("gpt2"), new MLTokenizerOptions { EosTokenId = 50256, PadTokenId = 50256 });
            CollectionAssert.AreEqual(generated, Generated(new MLContext().Model.Load(zip, out _).Transform(data)));
        }
        finally
        {
            PeftBaseModels.Clear();
            Directory.Delete(folder, recursive: true);
        }
    }
}
