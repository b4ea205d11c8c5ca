using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;
using Peft.Transformers.Tests;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;

namespace Peft.Tuners.Tests;

[TestClass]
public sealed class PeftModelTests
{
    private static PeftModel Causal(string family = "gpt2") => new(ModelLoader.LoadCausal(Fixtures.Hf($"{family}_base", "base")));

    private static IntTensor Ids(int batch, int length, int seed = 1)
    {
        var ids = IntTensor.Zeros(new Shape(batch, length));
        for (int i = 0; i < ids.Length; i++) ids.Span[i] = 3 + (i * 7 + seed * 13) % 90;
        return ids;
    }

    private static float[] Logits(PeftModel model, IntTensor ids, IntTensor? mask = null, IntTensor? taskIds = null)
    {
        using (Autograd.NoGrad())
        using (new TensorScope())
            return model.Forward(ids, mask, taskIds: taskIds).Logits.ToArray();
    }

    private static LoraAdapter NonZeroLora(PeftModel model, string name, float value, ulong seed)
    {
        var lora = (LoraAdapter)model.AddAdapter(name,
            new LoraConfig { R = 2, LoraAlpha = 4, TargetModules = TargetModules.FromPattern(@".*\.(c_attn|q_proj|v_proj|q|v)$") }, seed);
        // A fresh LoRA is the identity (B = 0); give B values so the adapter changes outputs.
        foreach (var layer in lora.Layers)
            for (int i = 0; i < layer.B.Length; i++) layer.B.Span[i] = value * ((i % 5) - 2);
        return lora;
    }

    [TestMethod]
    public void NamedAdaptersSwitchDisableInNestedScopesAndDelete()
    {
        var model = Causal();
        var ids = Ids(2, 5);
        var baseLogits = Logits(model, ids);
        NonZeroLora(model, "a", 0.05f, 1);
        NonZeroLora(model, "b", -0.03f, 2);
        CollectionAssert.AreEqual(new[] { "a" }, model.ActiveAdapters.ToArray(), "the first adapter becomes active, later ones wait");
        var a = Logits(model, ids);
        CollectionAssert.AreNotEqual(baseLogits, a);

        model.SetAdapter("b");
        var b = Logits(model, ids);
        CollectionAssert.AreNotEqual(a, b);
        model.SetAdapter("a");
        CollectionAssert.AreEqual(a, Logits(model, ids), "switching back restores the outputs exactly");

        using (model.DisableAdapters())
        {
            CollectionAssert.AreEqual(baseLogits, Logits(model, ids));
            using (model.DisableAdapters())
                CollectionAssert.AreEqual(baseLogits, Logits(model, ids));
            CollectionAssert.AreEqual(baseLogits, Logits(model, ids), "the outer scope still disables");
        }
        CollectionAssert.AreEqual(a, Logits(model, ids));
        model.AdaptersEnabled = false;
        CollectionAssert.AreEqual(baseLogits, Logits(model, ids));
        model.AdaptersEnabled = true;

        model.DeleteAdapter("a");
        CollectionAssert.AreEqual(new[] { "b" }, model.AdapterNames.ToArray());
        Assert.AreEqual(0, model.ActiveAdapters.Count);
        CollectionAssert.AreEqual(baseLogits, Logits(model, ids), "a deleted LoRA is detached from its layers");
        StringAssert.Contains(Assert.ThrowsExactly<KeyNotFoundException>(() => model.SetAdapter("a")).Message, "'b'");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => new PeftModel(model.BaseModel)).Message, "already has weight adapters",
            "a second PeftModel over a base with attached adapters would add both updates silently");
        Assert.ThrowsExactly<ArgumentException>(() => model.AddAdapter("b", new PromptTuningConfig { NumVirtualTokens = 2 }));
    }

    /// <summary>A prefix adapter (as a third party might write one) that hands out batch-sized rows instead of a shared row.</summary>
    private sealed class BatchRowsPrefixAdapter(PrefixTuningAdapter inner) : IPrefixAdapter
    {
        public IPeftConfig Config => inner.Config;

        public IEnumerable<Tensor> Parameters => inner.Parameters;

        public int NumVirtualTokens => inner.NumVirtualTokens;

        public AdapterFileContents FileContents() => inner.FileContents();

        public Peft.Transformers.Caching.PrefixKeyValues Prefix(int batch)
        {
            var shared = inner.Prefix(batch);
            return new([.. Enumerable.Range(0, shared.Layout.Layers).Select(i => shared[i])]);
        }
    }

    [TestMethod]
    public void AStackOfSharedAndBatchRowPrefixesEqualsTheStackOfSharedOnes()
    {
        var ids = Ids(3, 5);
        float[] Stacked(bool batchRows)
        {
            var model = Causal();
            var first = (PrefixTuningAdapter)model.LoadAdapter(Fixtures.Hf("gpt2_prefix_tuning", "adapter"), "first");
            var second = PrefixTuningAdapter.FromTensors(new PrefixTuningConfig { NumVirtualTokens = 2 }, model.BaseModel.Config,
                TensorInit.Normal(new Shape(2, first.Table().Shape[1]), 0, 1, new SeededRandom(4)), null);
            model.AddAdapter("second", batchRows ? new BatchRowsPrefixAdapter(second) : second);
            model.SetActiveAdapters("first", "second");
            Assert.IsFalse(batchRows && model.Prefix(3)!.IsShared, "a stack with a batch-row prefix holds batch rows");
            return Logits(model, ids);
        }
        var shared = Stacked(batchRows: false);
        var mixed = Stacked(batchRows: true);
        Assert.AreEqual(shared.Length, mixed.Length);
        for (int i = 0; i < shared.Length; i++) Assert.AreEqual(shared[i], mixed[i], 1e-6f, $"logit {i}");
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama")]
    public void StackedPrefixesEqualOneConcatenatedPrefixAndOnlyTheNewestTrains(string family)
    {
        var model = Causal(family);
        var domain = (PrefixTuningAdapter)model.LoadAdapter(Fixtures.Hf($"{family}_prefix_tuning", "adapter"), "domain");
        var task = (PrefixTuningAdapter)model.AddAdapter("task", new PrefixTuningConfig { NumVirtualTokens = 3 }, seed: 5);
        model.SetActiveAdapters("domain", "task");
        var ids = Ids(2, 6);
        var stacked = Logits(model, ids);

        var single = Causal(family);
        var table = Ops.Concat([domain.Table(), task.Table()], 0).Detach();
        single.AddAdapter("both", PrefixTuningAdapter.FromTensors(new PrefixTuningConfig { NumVirtualTokens = domain.NumVirtualTokens + 3 },
            single.BaseModel.Config, table, null));
        var concatenated = Logits(single, ids);
        Assert.AreEqual(concatenated.Length, stacked.Length);
        for (int i = 0; i < stacked.Length; i++) Assert.AreEqual(concatenated[i], stacked[i], 1e-5f, $"logit {i}");

        CollectionAssert.AreEqual(task.Parameters.ToArray(), model.TrainableParameters.ToArray(), "a loaded adapter is frozen by default");
        using (new TensorScope())
            model.Forward(ids, labels: ids).Loss!.Backward();
        Assert.IsNotNull(task.Embedding.Grad);
        Assert.IsNull(domain.Embedding.Grad, "the frozen domain prefix gets no gradient");
    }

    [TestMethod]
    [DataRow("gpt2")]
    [DataRow("llama")]
    public void PromptPrefixAndLoraTogetherTrainAndGenerateTheSameWithAndWithoutCache(string family)
    {
        var model = Causal(family);
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 3 }, seed: 1);
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 2 }, seed: 2);
        NonZeroLora(model, "lora", 0.02f, 3);
        model.SetActiveAdapters("prefix", "prompt", "lora");
        var ids = Ids(2, 5);
        var mask = IntTensor.FromArray([0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 2, 5);
        for (int i = 0; i < 2; i++) ids.Span[i] = 0;

        using (new TensorScope())
        {
            var output = model.Forward(ids, mask, labels: ids);
            Assert.AreEqual(3 + 5, output.Logits.Shape[1], "virtual positions come first in the logits, as in PEFT");
            Assert.IsTrue(float.IsFinite(output.Loss!.Item()));
            output.Loss.Backward();
        }
Assert.IsTrue(model.TrainableParameters.All(p => p.Grad is not null), "every trainable tensor of the three adapters got a gradient");
        Assert.AreEqual(1 + 1 + model["lora"].Parameters.Count(), model.TrainableParameters.Count);

        var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [] };
        var cached = model.Generate(ids, mask, options).Span.ToArray();
        var uncached = model.Generate(ids, mask, options with { UseCache = false }).Span.ToArray();
        var staticCache = model.Generate(ids, mask, options with { UseStaticCache = true }).Span.ToArray();
        CollectionAssert.AreEqual(uncached, cached);
        CollectionAssert.AreEqual(uncached, staticCache);
    }

    [TestMethod]
    public void Seq2SeqAdaptersTogetherGenerateTheSameWithAndWithoutCache()
    {
        var model = new PeftModel(ModelLoader.LoadSeq2Seq(Fixtures.Hf("t5_base", "base")));
        model.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 2 }, seed: 1);
        model.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 3 }, seed: 2);
        NonZeroLora(model, "lora", 0.02f, 3);
        model.SetActiveAdapters("prompt", "prefix", "lora");
        var ids = Ids(2, 5);
        var labels = Ids(2, 4, seed: 3);
        using (new TensorScope())
        {
            var output = model.Forward(ids, labels: labels);
            Assert.AreEqual(4, output.Logits.Shape[1]);
            output.Loss!.Backward();
        }
        Assert.IsTrue(model.TrainableParameters.All(p => p.Grad is not null));
        var options = new GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] };
        CollectionAssert.AreEqual(model.Generate(ids, null, options with { UseCache = false }).Span.ToArray(),
            model.Generate(ids, null, options).Span.ToArray());
    }

    [TestMethod]
    public void TextInitializationCopiesTheTextsTokenRowsRepeated()
    {
        var model = Causal();
        var config = new PromptTuningConfig { NumVirtualTokens = 5, PromptTuningInit = PromptTuningInit.Text, PromptTuningInitText = "classify:" };
        var adapter = (PromptTuningAdapter)model.AddAdapter("text", config, tokenize: _ => [5, 7]);
        var table = model.BaseModel.TokenEmbeddings;
        int d = table.Shape[1];
        int[] expected = [5, 7, 5, 7, 5];
        for (int r = 0; r < 5; r++)
            CollectionAssert.AreEqual(table.Span.Slice(expected[r] * d, d).ToArray(), adapter.Embeddings.Span.Slice(r * d, d).ToArray(), $"row {r}");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("t2", config)).Message, "tokenizer");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() =>
            model.AddAdapter("t3", config, tokenize: _ => [1_000_000])).Message, "1000000");
    }

    [TestMethod]
    public void UnknownConfigFieldsOfNewerPeftVersionsLoadWithAWarning()
    {
        string folder = Directory.CreateTempSubdirectory("peft-unknown-").FullName;
        try
        {
            string source = Fixtures.Hf("gpt2_prompt_tuning", "adapter");
            File.Copy(Path.Combine(source, AdapterFiles.WeightsFileName), Path.Combine(folder, AdapterFiles.WeightsFileName));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, AdapterFiles.ConfigFileName)))!.AsObject();
            config["future_field"] = 3;
            File.WriteAllText(Path.Combine(folder, AdapterFiles.ConfigFileName), config.ToJsonString());
            var warnings = new List<string>();
            var model = Causal();
            model.LoadAdapter(folder, "p", warn: warnings.Add);
            Assert.AreEqual(1, warnings.Count);
            StringAssert.Contains(warnings[0], "future_field");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void MultitaskInitFromASourceAdapter()
    {
        string source = Fixtures.Hf("gpt2_multitask_prompt_tuning", "adapter", AdapterFiles.WeightsFileName);
        using var file = SafeTensorsFile.Open(source);
        var sourcePrompt = file.ReadFloat32("prompt_embeddings");
        var sourceCols = file.ReadFloat32("prefix_task_cols");
        var sourceRows = file.ReadFloat32("prefix_task_rows");
        int tasks = file.GetInfo("prefix_task_cols").Shape[0];
        var model = Causal();
        var baseConfig = new MultitaskPromptTuningConfig { NumVirtualTokens = 4, NumTasks = 3, PromptTuningInitStateDictPath = source };

        var exact = (MultitaskPromptTuningAdapter)model.AddAdapter("exact",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.ExactSourceTask, PromptTuningInitTask = 1 });
        int perCols = sourceCols.Length / tasks, perRows = sourceRows.Length / tasks;
        CollectionAssert.AreEqual(sourcePrompt, exact.Prompt.ToArray());
        for (int t = 0; t < 3; t++)
        {
            CollectionAssert.AreEqual(sourceCols.AsSpan(perCols, perCols).ToArray(), exact.TaskCols.Span.Slice(t * perCols, perCols).ToArray());
            CollectionAssert.AreEqual(sourceRows.AsSpan(perRows, perRows).ToArray(), exact.TaskRows.Span.Slice(t * perRows, perRows).ToArray());
        }

        var average = (MultitaskPromptTuningAdapter)model.AddAdapter("average",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.AverageSourceTasks });
        for (int i = 0; i < perCols; i++)
        {
            double mean = Enumerable.Range(0, tasks).Average(t => (double)sourceCols[t * perCols + i]);
            Assert.AreEqual(mean, average.TaskCols.Span[2 * perCols + i], 1e-6);
        }

        var shared = (MultitaskPromptTuningAdapter)model.AddAdapter("shared",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.OnlySourceShared });
        CollectionAssert.AreEqual(sourcePrompt, shared.Prompt.ToArray());

        // A plain prompt-tuning adapter is a valid source of the shared prompt.
        string promptSource = Fixtures.Hf("gpt2_prompt_tuning", "adapter", AdapterFiles.WeightsFileName);
        var fromPrompt = (MultitaskPromptTuningAdapter)model.AddAdapter("from-prompt",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.OnlySourceShared, PromptTuningInitStateDictPath = promptSource });
        using (var promptFile = SafeTensorsFile.Open(promptSource))
            CollectionAssert.AreEqual(promptFile.ReadFloat32("prompt_embeddings"), fromPrompt.Prompt.ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => model.AddAdapter("no-factors",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.AverageSourceTasks, PromptTuningInitStateDictPath = promptSource })).Message,
            "prefix_task_cols");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("bad",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.ExactSourceTask, PromptTuningInitTask = tasks })).Message,
            "prompt_tuning_init_task");
        StringAssert.Contains(Assert.ThrowsExactly<AdapterConfigException>(() => model.AddAdapter("none",
            baseConfig with { PromptTuningInit = MultitaskPromptTuningInit.AverageSourceTasks, PromptTuningInitStateDictPath = null })).Message,
            "prompt_tuning_init_state_dict_path");
    }

    [TestMethod]
    public void EveryMethodSavesAndLoadsBackWithTheSameOutputs()
    {
        string root = Directory.CreateTempSubdirectory("peft-roundtrip-").FullName;
        try
        {
            IPeftConfig[] configs =
            [
                new PromptTuningConfig { NumVirtualTokens = 3 },
                new PTuningConfig { NumVirtualTokens = 3, EncoderHiddenSize = 8 },
                new PTuningConfig { NumVirtualTokens = 3, EncoderHiddenSize = 8, EncoderReparameterizationType = PromptEncoderReparameterizationType.Lstm },
                new PrefixTuningConfig { NumVirtualTokens = 3, PrefixProjection = true, EncoderHiddenSize = 8 },
                new MultitaskPromptTuningConfig { NumVirtualTokens = 3, NumTasks = 2 },
                new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("c_attn"), UseRsLora = true },
                new Ia3.Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"),
                    FeedforwardModules = TargetModules.FromNames("mlp.c_proj") },
            ];
            var ids = Ids(2, 4);
            var taskIds = IntTensor.FromArray([1, 0], 2);
            for (int i = 0; i < configs.Length; i++)
            {
                var model = Causal();
                var adapter = model.AddAdapter("x", configs[i], seed: (ulong)i + 1);
                if (adapter is LoraAdapter lora) foreach (var l in lora.Layers) l.B.Span.Fill(0.01f);
                if (adapter is Ia3.Ia3Adapter ia3) foreach (var l in ia3.Layers) l.Scale.Span.Fill(1.5f);
                var expected = Logits(model, ids, taskIds: taskIds);
                string folder = Path.Combine(root, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                model.SaveAdapter("x", folder);
                var reloaded = Causal();
                reloaded.LoadAdapter(folder, "x");
                // Loaded adapters are frozen, so their products may take the packed-weight GEMM path: equal up to rounding.
                var actual = Logits(reloaded, ids, taskIds: taskIds);
                for (int j = 0; j < expected.Length; j++)
                    Assert.AreEqual(expected[j], actual[j], 1e-5f * (1 + Math.Abs(expected[j])), $"{configs[i].PeftType} ({i}) logit {j}");
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
