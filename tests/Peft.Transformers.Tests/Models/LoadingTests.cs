using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Loading;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class LoadingTests
{
    private static string TempFolder() => Directory.CreateTempSubdirectory("peft-model-").FullName;

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    [DataRow("t5_base")]
    public void SavingRoundTripsTheCheckpointBitForBit(string caseName)
    {
        string source = Fixtures.Hf(caseName, "base");
        string target = TempFolder();
        try
        {
            if (caseName == "t5_base") ModelLoader.Save(ModelLoader.LoadSeq2Seq(source), target);
            else ModelLoader.Save(ModelLoader.LoadCausal(source), target);
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(source, "model.safetensors")),
                File.ReadAllBytes(Path.Combine(target, "model.safetensors")));
            Assert.IsTrue(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json"))),
                JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))));
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [TestMethod]
    public async Task AsyncLoadingGivesTheSameWeightsAndHonoursCancellation()
    {
        string causal = Fixtures.Hf("gpt2_base", "base"), seq2seq = Fixtures.Hf("t5_base", "base");
        var expected = ModelLoader.LoadCausal(causal);
        var loaded = await ModelLoader.LoadCausalAsync(causal);
        foreach (var p in expected.Parameters.All)
            CollectionAssert.AreEqual(p.Tensor.ToArray(), loaded.Parameters[p.Name].ToArray(), p.Name);
        var t5 = await ModelLoader.LoadSeq2SeqAsync(seq2seq);
        var t5Sync = ModelLoader.LoadSeq2Seq(seq2seq);
        foreach (var p in t5Sync.Parameters.All)
            CollectionAssert.AreEqual(p.Tensor.ToArray(), t5.Parameters[p.Name].ToArray(), p.Name);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAsync<OperationCanceledException>(() => ModelLoader.LoadCausalAsync(causal, null, cancelled.Token));
        // The loader itself checks between tensors (not only Task.Run before it starts).
        var model = ModelLoader.CreateCausal(Configuration.ModelConfig.Load(causal));
        using var checkpoint = Loading.CheckpointReader.Open(causal);
        Assert.ThrowsExactly<OperationCanceledException>(
            () => model.Parameters.Load(checkpoint, new LoadOptions(), _ => false, cancellationToken: cancelled.Token));
    }

    [TestMethod]
    public void ShardedCheckpointLoadsLikeTheSingleFile()
    {
        string source = Fixtures.Hf("llama_base", "base");
        string target = TempFolder();
        try
        {
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(target, "config.json"));
            var weightMap = new JsonObject();
            using (var file = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors")))
            {
                var names = file.Tensors.Keys.Order(StringComparer.Ordinal).ToArray();
                for (int shard = 0; shard < 2; shard++)
                {
                    string shardName = $"model-0000{shard + 1}-of-00002.safetensors";
                    var part = names.Where((_, i) => i % 2 == shard).ToArray();
                    SafeTensorsWriter.Write(Path.Combine(target, shardName),
                        part.Select(n => new SafeTensorWriteEntry(n, file.GetInfo(n).DType, file.GetInfo(n).Shape, file.GetBytes(n).ToArray())));
                    foreach (var n in part) weightMap[n] = shardName;
                }
            }
            File.WriteAllText(Path.Combine(target, "model.safetensors.index.json"),
                new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());
            var single = ModelLoader.LoadCausal(source);
            var sharded = ModelLoader.LoadCausal(target);
            foreach (var p in single.Parameters.All)
                CollectionAssert.AreEqual(p.Tensor.ToArray(), sharded.Parameters[p.Name].ToArray(), p.Name);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    private static string CopyWithEditedWeights(string caseName, Func<string, SafeTensorWriteEntry?> edit, IEnumerable<SafeTensorWriteEntry>? extra = null)
    {
        string source = Fixtures.Hf(caseName, "base");
        string target = TempFolder();
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(target, "config.json"));
        using var file = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        var entries = file.Tensors.Keys.Select(n => edit(n) is { } replaced
                ? replaced
                : new SafeTensorWriteEntry(n, file.GetInfo(n).DType, file.GetInfo(n).Shape, file.GetBytes(n).ToArray()))
            .Where(e => e.Name != "__drop__").Concat(extra ?? []).ToList();
        SafeTensorsWriter.Write(Path.Combine(target, "model.safetensors"), entries);
        return target;
    }

    [TestMethod]
    public void MissingUnexpectedAndMisshapenTensorsAreNamed()
    {
        string missing = CopyWithEditedWeights("gpt2_base",
            n => n == "transformer.ln_f.bias" ? new SafeTensorWriteEntry("__drop__", SafeTensorDType.F32, [0], Array.Empty<byte>()) : null);
        string wrongShape = CopyWithEditedWeights("gpt2_base",
            n => n == "transformer.wpe.weight" ? SafeTensorWriteEntry.Float32(n, new float[10 * 32], 10, 32) : null);
        string unexpected = CopyWithEditedWeights("gpt2_base", _ => null, [SafeTensorWriteEntry.Float32("transformer.extra.weight", [1f], 1)]);
        try
        {
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => ModelLoader.LoadCausal(missing)).Message, "transformer.ln_f.bias");
            var shapeError = Assert.ThrowsExactly<InvalidDataException>(() => ModelLoader.LoadCausal(wrongShape)).Message;
            StringAssert.Contains(shapeError, "'transformer.wpe.weight' has shape [10, 32] but the model (from config.json) needs [64, 32]");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => ModelLoader.LoadCausal(unexpected)).Message, "transformer.extra.weight");
            var tolerant = ModelLoader.LoadCausal(unexpected, new LoadOptions { AllowUnexpectedKeys = true });
            Assert.IsFalse(tolerant.Parameters.Contains("transformer.extra.weight"));
        }
        finally
        {
            foreach (var d in new[] { missing, wrongShape, unexpected }) Directory.Delete(d, recursive: true);
        }
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => ModelLoader.LoadCausal("/no/such/model"));
    }

    [TestMethod]
    public void CacheOfAnotherModelShapeIsRejectedNamingTheDimension()
    {
        var model = ModelLoader.LoadCausal(Fixtures.Hf("llama_base", "base"));
        var wrong = new DynamicCache(new CacheLayout(2, 1, 4, 8)); // llama has 2 kv heads
        var ids = IntTensor.FromArray([5, 6, 7], 1, 3);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(inputIds: ids, cache: wrong));
        StringAssert.Contains(ex.Message, "the cache has 4 key/value heads but the model needs 2");
    }

    [TestMethod]
    public void PrefixWithCacheFollowsOneRuleAndIsNeverAddedTwice()
    {
        // A prefix given with an empty cache is written into it; the next calls with the same
        // prefix (what a PEFT wrapper passes every step) find it there and do not add it again.
        var model = ModelLoader.LoadCausal(Fixtures.Hf("gpt2_base", "base"));
        var layout = model.CacheLayoutFor(1);
        var random = new SeededRandom(3);
        var prefix = new PrefixKeyValues(Enumerable.Range(0, layout.Layers)
            .Select(_ => (TensorInit.Normal(new Shape(1, layout.KeyValueHeads, 2, layout.HeadDim), 0, 1, random),
                TensorInit.Normal(new Shape(1, layout.KeyValueHeads, 2, layout.HeadDim), 0, 1, random))).ToList());
        var ids = IntTensor.FromArray([5, 6, 7, 8], 1, 4);
        Tensor uncached;
        using (Autograd.NoGrad())
            uncached = model.Forward(inputIds: ids, prefix: prefix).Logits;
        var cache = new DynamicCache(layout);
        float[] stepwise;
        using (Autograd.NoGrad())
        {
            var first = model.Forward(inputIds: IntTensor.FromArray([5, 6, 7], 1, 3), prefix: prefix, cache: cache);
            Assert.AreEqual(2, cache.PrefixLength);
            var second = model.Forward(inputIds: IntTensor.FromArray([8], 1, 1), prefix: prefix, cache: cache);
            Assert.AreEqual(6, cache.Length);
            stepwise = second.Logits.ToArray();
        }
        var expectedLast = uncached.ToArray()[(3 * 128)..];
        for (int i = 0; i < 128; i++) Assert.AreEqual(expectedLast[i], stepwise[i], 1e-4f);

        var realOnly = new DynamicCache(layout);
        using (Autograd.NoGrad()) model.Forward(inputIds: ids, cache: realOnly);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(
            () => model.Forward(inputIds: IntTensor.FromArray([1], 1, 1), cache: realOnly, prefix: prefix)).Message, "first (empty-cache) call");
    }
}
