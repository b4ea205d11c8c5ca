using Peft.Tensors;
using Peft.Tensors.Quantization;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Modules;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

/// <summary>
/// 16-bit bases (LoadOptions.Quantization = BFloat16 / Float16) of the gpt2, llama and t5 fixtures, each written as a BF16
/// and an F16 checkpoint (<see cref="SixteenBitCheckpoint"/>). Loaded 16-bit against the same file loaded float32, the
/// weight values are identical (widening is exact), so logits differ only by float32 summation order:
/// max |Δlogit| ≤ 1e-5·max|logit| + 1e-5 (measured: 0 for the fixture batches, whose > 8 rows take widened tiles and the same
/// float GEMM; ≤ 2.4e-7·max|logit| for three rows on the direct 16-bit kernels). An F32 checkpoint loaded 16-bit rounds each weight
/// to nearest even, checked bit for bit; its logits move by the rounding itself (bounds below).
/// </summary>
[TestClass]
public sealed class HalfPrecisionModelTests
{
    public TestContext TestContext { get; set; } = null!;

    private static QuantizationFormat FormatOf(SafeTensorDType dtype) =>
        dtype == SafeTensorDType.BF16 ? QuantizationFormat.BFloat16 : QuantizationFormat.Float16;

    private static bool IsT5(string caseName) => caseName.StartsWith("t5", StringComparison.Ordinal);

    private static (float[] Logits, IReadOnlyList<LinearLayer> Layers, ParameterSet Parameters) Run(string caseName, string folder, LoadOptions? options)
    {
        using var c = new HfCase(caseName);
        using var scope = new TensorScope();
        if (IsT5(caseName))
        {
            var t5 = ModelLoader.LoadSeq2Seq(folder, options);
            var logits = t5.Forward(inputIds: c.Ints("input.input_ids"), attentionMask: c.Ints("input.attention_mask"),
                labels: c.Ints("input.labels")).Logits.ToArray();
            return (logits, t5.LinearLayers, t5.Parameters);
        }
        var model = ModelLoader.LoadCausal(folder, options);
        return (model.Forward(inputIds: c.Ints("input.input_ids"), attentionMask: c.Ints("input.attention_mask")).Logits.ToArray(),
            model.LinearLayers, model.Parameters);
    }

    /// <summary>Logits of the first row's first three tokens: three activation rows per linear layer (T5: 3 encoder, 2 decoder).</summary>
    private static float[] RunFewRows(string caseName, string folder, LoadOptions? options)
    {
        using var c = new HfCase(caseName);
        using var scope = new TensorScope();
        var ids = IntTensor.FromArray(c.Ints("input.input_ids").ToArray()[..3], 1, 3);
        if (IsT5(caseName))
            return ModelLoader.LoadSeq2Seq(folder, options).Forward(inputIds: ids, labels: IntTensor.FromArray([1, 2], 1, 2)).Logits.ToArray();
        return ModelLoader.LoadCausal(folder, options).Forward(inputIds: ids).Logits.ToArray();
    }

    private static string BaseFolder(string caseName)
    {
        using var c = new HfCase(caseName);
        return c.BaseFolder;
    }

    private static (double MaxAbs, double MaxLogit) Difference(float[] reference, float[] actual)
    {
        Assert.HasCount(reference.Length, actual);
        double maxAbs = 0, maxLogit = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs((double)reference[i] - actual[i]));
            maxLogit = Math.Max(maxLogit, Math.Abs(reference[i]));
        }
        return (maxAbs, maxLogit);
    }

    [TestMethod]
    [DataRow("gpt2_base", SafeTensorDType.BF16)]
    [DataRow("gpt2_base", SafeTensorDType.F16)]
    [DataRow("llama_base", SafeTensorDType.BF16)]
    [DataRow("llama_base", SafeTensorDType.F16)]
    [DataRow("t5_base", SafeTensorDType.BF16)]
    [DataRow("t5_base", SafeTensorDType.F16)]
    public void SixteenBitLoadOfA16BitCheckpointKeepsItsBitsAndMatchesTheFloat32Load(string caseName, SafeTensorDType dtype)
    {
        string folder = SixteenBitCheckpoint.Write(BaseFolder(caseName), dtype);
        try
        {
            var format = FormatOf(dtype);
            var reference = Run(caseName, folder, null);
            var half = Run(caseName, folder, new LoadOptions { Quantization = format });
            var (maxAbs, maxLogit) = Difference(reference.Logits, half.Logits);
            TestContext.WriteLine($"{caseName} {dtype}: max |Δlogit| {maxAbs:G3} (max |logit| {maxLogit:G3}, relative {maxAbs / maxLogit:G3})");
            Assert.IsLessThanOrEqualTo(1e-5 * maxLogit + 1e-5, maxAbs, $"{caseName} {dtype}: logits of the 16-bit base vs the float32 load");

            // Few rows (≤ 8) take the direct 16-bit kernels, whose summation order differs from the float GEMM's.
            var few = RunFewRows(caseName, folder, null);
            var fewHalf = RunFewRows(caseName, folder, new LoadOptions { Quantization = format });
            var (fewAbs, fewLogit) = Difference(few, fewHalf);
            TestContext.WriteLine($"{caseName} {dtype} one row of 3 tokens: max |Δlogit| {fewAbs:G3} (max |logit| {fewLogit:G3})");
            Assert.IsLessThanOrEqualTo(1e-5 * fewLogit + 1e-5, fewAbs, $"{caseName} {dtype}: logits of one short row (direct kernels)");

            // Every linear layer holds the file's bits; the float32 load holds their exact widening.
            using var weights = SafeTensorsFile.Open(Path.Combine(folder, "model.safetensors"));
            Assert.IsNotEmpty(half.Layers);
            for (int i = 0; i < half.Layers.Count; i++)
            {
                var m = (HalfMatrix)half.Layers[i].QuantizedWeight!;
                Assert.AreEqual(format, m.Format);
                CollectionAssert.AreEqual(reference.Layers[i].Weight.ToArray(), m.Dequantize().ToArray(), $"{half.Layers[i].Name}: widened values");
                string name = reference.Layers[i].Weight.Name!;
                // GPT2 checkpoints may name weights without the "transformer." prefix.
                string stored16 = weights.Contains(name) ? name : name["transformer.".Length..];
                var stored = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(weights.GetBytes(stored16));
                var expected = HalfMatrix.FromBits(format, m.Rows, m.Columns, stored, storedTransposed: caseName.StartsWith("gpt2", StringComparison.Ordinal));
                CollectionAssert.AreEqual(expected.Bits.ToArray(), m.Bits.ToArray(), $"{half.Layers[i].Name}: bits as stored");
                Assert.AreEqual(2L * m.Rows * m.Columns, m.ByteSize, "two bytes per weight");
            }
            long linearValues = half.Layers.Sum(l => (long)l.InFeatures * l.OutFeatures);
            Assert.AreEqual(reference.Parameters.ResidentBytes - 2 * linearValues, half.Parameters.ResidentBytes, "the linear weights take half the memory");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Rounding each weight moves logits (max |Δlogit| measured on Zen 4: gpt2 bf16 2.7e-4 / f16 3.6e-5, llama bf16 1.3e-3 /
    // f16 1.2e-4, t5 bf16 0.017 / f16 1.9e-3 with max |logit| ~4); bounds are ~3x that. BF16 keeps 8 significant bits, F16 11,
    // hence about 8x apart.
    [TestMethod]
    [DataRow("gpt2_base", QuantizationFormat.BFloat16, 1e-3)]
    [DataRow("gpt2_base", QuantizationFormat.Float16, 1.5e-4)]
    [DataRow("llama_base", QuantizationFormat.BFloat16, 4e-3)]
    [DataRow("llama_base", QuantizationFormat.Float16, 4e-4)]
    [DataRow("t5_base", QuantizationFormat.BFloat16, 0.05)]
    [DataRow("t5_base", QuantizationFormat.Float16, 6e-3)]
    public void SixteenBitLoadOfAFloat32CheckpointRoundsToNearestEven(string caseName, QuantizationFormat format, double maxAbsBound)
    {
        string folder = BaseFolder(caseName);
        var reference = Run(caseName, folder, null);
        var half = Run(caseName, folder, new LoadOptions { Quantization = format });
        for (int i = 0; i < half.Layers.Count; i++)
        {
            var m = (HalfMatrix)half.Layers[i].QuantizedWeight!;
            var w = reference.Layers[i].Weight.ToArray();
            var bits = m.Bits;
            for (int j = 0; j < w.Length; j++)
            {
                ushort expected = format == QuantizationFormat.Float16 ? BitConverter.HalfToUInt16Bits((Half)w[j]) : NearestEvenBFloat16(w[j]);
                if (bits[j] != expected) Assert.Fail($"{half.Layers[i].Name}[{j}] = {w[j]:R}: expected 0x{expected:X4}, got 0x{bits[j]:X4}");
            }
        }
        var (maxAbs, _) = Difference(reference.Logits, half.Logits);
        TestContext.WriteLine($"{caseName} {format} from F32: max |Δlogit| {maxAbs:G3}");
        Assert.IsLessThan(maxAbsBound, maxAbs);
    }

    [TestMethod]
    [DataRow("gpt2_base", SafeTensorDType.BF16)]
    [DataRow("llama_base", SafeTensorDType.F16)]
    [DataRow("t5_base", SafeTensorDType.BF16)]
    public void SavedSixteenBitModelWritesPlainSixteenBitTensorsAndReloadsBitExact(string caseName, SafeTensorDType dtype)
    {
        string source = SixteenBitCheckpoint.Write(BaseFolder(caseName), dtype);
        string saved = Directory.CreateTempSubdirectory("peft-half-save-").FullName;
        try
        {
            var options = new LoadOptions { Quantization = FormatOf(dtype) };
            if (IsT5(caseName)) ModelLoader.Save(ModelLoader.LoadSeq2Seq(source, options), saved);
            else ModelLoader.Save(ModelLoader.LoadCausal(source, options), saved);
            Assert.DoesNotContain("quantization_config", File.ReadAllText(Path.Combine(saved, "config.json")));
            var first = Run(caseName, source, options);
            using (var weights = SafeTensorsFile.Open(Path.Combine(saved, "model.safetensors")))
                foreach (var layer in first.Layers)
                {
                    string name = first.Parameters.Quantized.Single(q => q.Matrix == layer.QuantizedWeight).Name;
                    Assert.AreEqual(dtype, weights.GetInfo(name).DType, name);
                }
            // Loaded 16-bit again: the same bits and the same logits; loaded float32: the same logits as the source loaded float32.
            var again = Run(caseName, saved, options);
            CollectionAssert.AreEqual(first.Logits, again.Logits, "16-bit logits after a save and reload");
            for (int i = 0; i < first.Layers.Count; i++)
                CollectionAssert.AreEqual(((HalfMatrix)first.Layers[i].QuantizedWeight!).Bits.ToArray(),
                    ((HalfMatrix)again.Layers[i].QuantizedWeight!).Bits.ToArray(), first.Layers[i].Name);
            CollectionAssert.AreEqual(Run(caseName, source, null).Logits, Run(caseName, saved, null).Logits, "float32 logits of the saved copy");
        }
        finally
        {
            Directory.Delete(source, recursive: true);
            Directory.Delete(saved, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("gpt2_base", QuantizationFormat.BFloat16)]
    [DataRow("llama_base", QuantizationFormat.Float16)]
    [DataRow("t5_base", QuantizationFormat.BFloat16)]
    public void CachedAndUncachedGreedyGenerationAgree(string caseName, QuantizationFormat format)
    {
        using var c = new HfCase(caseName);
        var ids = c.Ints("input.input_ids");
        var mask = c.Ints("input.attention_mask");
        var options = new GenerationOptions { MaxNewTokens = 8 };
        var load = new LoadOptions { Quantization = format };
        if (IsT5(caseName))
        {
            var gen = new Seq2SeqGenerator(ModelLoader.LoadSeq2Seq(c.BaseFolder, load));
            CollectionAssert.AreEqual(gen.GenerateGreedy(ids, mask, options with { UseCache = false }).ToArray(),
                gen.GenerateGreedy(ids, mask, options).ToArray());
            return;
        }
        var causal = new CausalGenerator(ModelLoader.LoadCausal(c.BaseFolder, load));
        var uncached = causal.GenerateGreedy(ids, mask, options with { UseCache = false }).ToArray();
        CollectionAssert.AreEqual(uncached, causal.GenerateGreedy(ids, mask, options).ToArray());
        CollectionAssert.AreEqual(uncached, causal.GenerateGreedy(ids, mask, options with { UseStaticCache = true }).ToArray());
    }

    [TestMethod]
    [DataRow("gpt2_base", SafeTensorDType.BF16)]
    [DataRow("llama_base", SafeTensorDType.F16)]
    public void TheDefault16BitLmHeadCopyOfA16BitCheckpointGivesTheFloat32Logits(string caseName, SafeTensorDType dtype)
    {
        // The head's values came from the file's 16-bit ones, so its 16-bit copy (made by default) holds them exactly: only
        // summation order differs.
        string folder = SixteenBitCheckpoint.Write(BaseFolder(caseName), dtype);
        try
        {
            var options = new LoadOptions { Quantization = FormatOf(dtype) };
            var model = ModelLoader.LoadCausal(folder, options);
            Assert.AreEqual(FormatOf(dtype), model.QuantizedHead!.Format);
            Assert.IsNull(ModelLoader.LoadCausal(folder, options with { QuantizeLmHead = false }).QuantizedHead);
            Assert.AreEqual(2L * model.QuantizedHead.Rows * model.QuantizedHead.Columns, model.QuantizedHead.ByteSize);
            foreach (var (reference, half) in new[] { (Run(caseName, folder, null).Logits, Run(caseName, folder, options).Logits),
                         (RunFewRows(caseName, folder, null), RunFewRows(caseName, folder, options)) })
            {
                var (maxAbs, maxLogit) = Difference(reference, half);
                TestContext.WriteLine($"{caseName} {dtype} with a 16-bit head: max |Δlogit| {maxAbs:G3} (max |logit| {maxLogit:G3})");
                Assert.IsLessThanOrEqualTo(1e-5 * maxLogit + 1e-5, maxAbs);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("gpt2_base")]
    [DataRow("llama_base")]
    public void SequenceClassifierOnA16BitBaseGivesTheFloat32Logits(string caseName)
    {
        string folder = SixteenBitCheckpoint.Write(BaseFolder(caseName), SafeTensorDType.BF16);
        try
        {
            using var c = new HfCase(caseName);
            using var scope = new TensorScope();
            var reference = ModelLoader.LoadSequenceClassifier(folder, numLabels: 3, seed: 4);
            var half = ModelLoader.LoadSequenceClassifier(folder, numLabels: 3, new LoadOptions { Quantization = QuantizationFormat.BFloat16 }, seed: 4);
            Assert.IsTrue(half.LinearLayers.All(l => l.QuantizedWeight is HalfMatrix), "every backbone linear layer is 16-bit");
            var ids = c.Ints("input.input_ids");
            var mask = c.Ints("input.attention_mask");
            var (maxAbs, maxLogit) = Difference(reference.Forward(inputIds: ids, attentionMask: mask).Logits.ToArray(),
                half.Forward(inputIds: ids, attentionMask: mask).Logits.ToArray());
            Assert.IsLessThanOrEqualTo(1e-5 * maxLogit + 1e-5, maxAbs);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void UnsupportedDtypesAndOutOfRangeValuesFailWithClearMessages()
    {
        using var c = new HfCase("gpt2_base");
        string folder = Directory.CreateTempSubdirectory("peft-half-bad-").FullName;
        try
        {
            // int8 weights without their quantization_config: a 16-bit request names the dtype it cannot read.
            ModelLoader.Save(ModelLoader.LoadCausal(c.BaseFolder, new LoadOptions { Quantization = QuantizationFormat.Int8 }), folder);
            string configPath = Path.Combine(folder, "config.json");
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            json.Remove("quantization_config");
            File.WriteAllText(configPath, json.ToJsonString());
            var ex = Assert.Throws<InvalidDataException>(() => ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.BFloat16 }));
            StringAssert.Contains(ex.Message, "BFloat16 weights were asked for");
            StringAssert.Contains(ex.Message, "I8");

            // An F32 weight beyond F16's range (65504).
            ModelLoader.Save(ModelLoader.LoadCausal(c.BaseFolder), folder);
            string weightsPath = Path.Combine(folder, "model.safetensors");
            List<SafeTensorWriteEntry> entries;
            using (var file = SafeTensorsFile.Open(weightsPath))
                entries = file.Tensors.Values.Select(t => new SafeTensorWriteEntry(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
            const string target = "transformer.h.0.attn.c_attn.weight";
            var big = entries.Select(e => e.Name == target ? e with { Data = WithFirst(e.Data, 1e5f) } : e).ToList();
            SafeTensorsWriter.Write(weightsPath, big);
            ex = Assert.Throws<InvalidDataException>(() => ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.Float16 }));
            StringAssert.Contains(ex.Message, target);
            StringAssert.Contains(ex.Message, "65504");
            Assert.IsNotNull(ModelLoader.LoadCausal(folder, new LoadOptions { Quantization = QuantizationFormat.BFloat16 }), "BF16 holds 1e5");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        static ReadOnlyMemory<byte> WithFirst(ReadOnlyMemory<byte> data, float value)
        {
            var copy = data.ToArray();
            BitConverter.TryWriteBytes(copy.AsSpan(0, 4), value);
            return copy;
        }
    }

    /// <summary>BF16 nearest-even by comparing the two neighbours exactly (independent of the library's bit trick).</summary>
    private static ushort NearestEvenBFloat16(float v)
    {
        uint f = BitConverter.SingleToUInt32Bits(v);
        uint down = f & 0xFFFF0000u, up = down + 0x10000u;
        double d = v, lo = BitConverter.UInt32BitsToSingle(down), hi = BitConverter.UInt32BitsToSingle(up);
        double dl = Math.Abs(d - lo), dh = Math.Abs(hi - d);
        return (ushort)((dl < dh || (dl == dh && ((down >> 16) & 1) == 0) ? down : up) >> 16);
    }
}
