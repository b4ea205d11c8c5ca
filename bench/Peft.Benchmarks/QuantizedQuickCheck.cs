using System.Diagnostics;
using System.Text.Json.Nodes;
using Peft.Benchmarks.Shared;
using Peft.Tensors;
using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;
using Peft.Tensors.Threading;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Gpt2;
using Peft.Transformers.Quantization;

namespace Peft.Benchmarks;

/// <summary>
/// Stopwatch sweep of the quantized kernels and of gpt2-small decoding on float32, int8 and NF4
/// weights, for tuning between BenchmarkDotNet runs:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- quant [kernels|half|decode [threads]|error|ppl]</c>.
/// </summary>
internal static class QuantizedQuickCheck
{
    public static void Run(string[] args)
    {
        string what = args.Length > 1 ? args[1] : "all";
        if (what is "all" or "kernels") Kernels();
        if (what is "all" or "half") HalfRows();
        if (what is "all" or "ppl") Perplexity();
        if (what is "all" or "decode")
        {
            // An optional thread count (quant decode 1) measures one core alone, steadier on a shared machine.
            if (args.Length > 2) WorkerPool.SetMaxDegree(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
            Console.WriteLine($"--- decode on {WorkerPool.Degree} thread(s)");
            Decode();
            WorkerPool.SetMaxDegree(Environment.ProcessorCount);
        }
        if (what is "all" or "error") LogitError();
    }

    /// <summary>Max |Δlogit| and mean KL(float ‖ quantized) of the fixture base models' logits.</summary>
    /// <summary>
    /// Perplexity of a held-out text (an English paragraph's bytes, modulo the vocabulary) under the
    /// float32 model and its int8/NF4 versions: the fixture models and a gpt2-small-shaped random one.
    /// Random models have near-uniform predictions, so the relative change is the figure to read.
    /// </summary>
    private static void Perplexity()
    {
        const string Text = "Parameter-efficient fine-tuning trains a few extra weights on top of a frozen language model. " +
            "Quantizing the frozen base to eight or four bits keeps its memory small while the adapters stay in float, " +
            "which is how a laptop can fine-tune a model that would otherwise not fit.";
        var bytes = System.Text.Encoding.ASCII.GetBytes(Text);
        double Ppl(Func<IntTensor, Tensor> loss, int vocab, int maxLength)
        {
            int n = Math.Min(bytes.Length, maxLength);
            var ids = IntTensor.FromArray(bytes.Take(n).Select(b => b % vocab).ToArray(), 1, n);
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            return Math.Exp(loss(ids).Item());
        }
        string root = FindFixtures();
        foreach (var name in new[] { "gpt2_base", "llama_base", "t5_base", "gpt2-small (random)" })
        {
            var results = new List<string>();
            double reference = 0;
            foreach (var (label, options) in new[] { ("float32", (LoadOptions?)null), ("int8", new LoadOptions { Quantization = QuantizationFormat.Int8 }),
                ("nf4", new LoadOptions { Quantization = QuantizationFormat.Nf4 }) })
            {
                double ppl;
                if (name.StartsWith("gpt2-small", StringComparison.Ordinal))
                {
                    var model = Gpt2Small();
                    if (options is not null) ModelQuantization.Quantize(model, options.Quantization);
                    ppl = Ppl(ids => model.Forward(inputIds: ids, labels: ids).Loss!, 50257, 1024);
                }
                else if (name.StartsWith("t5", StringComparison.Ordinal))
                {
                    var t5 = ModelLoader.LoadSeq2Seq(Path.Combine(root, name, "base"), options);
                    ppl = Ppl(ids =>
                    {
                        int half = ids.Length / 2;
                        return t5.Forward(inputIds: IntTensor.FromArray(ids.ToArray()[..half], 1, half),
                            labels: IntTensor.FromArray(ids.ToArray()[half..], 1, ids.Length - half)).Loss!;
                    }, t5.Config.VocabSize, 128);
                }
                else
                {
                    var causal = ModelLoader.LoadCausal(Path.Combine(root, name, "base"), options);
                    ppl = Ppl(ids => causal.Forward(inputIds: ids, labels: ids).Loss!, causal.Config.VocabSize, causal.Config.MaxPositionEmbeddings);
                }
                if (options is null) reference = ppl;
                results.Add(options is null ? $"{label} {ppl:F3}" : $"{label} {ppl:F3} ({100 * (ppl - reference) / reference:+0.000;-0.000}%)");
            }
            Console.WriteLine($"{name}: perplexity {string.Join(", ", results)}");
        }
    }

    private static void LogitError()
    {
        string root = FindFixtures();
        foreach (var name in new[] { "gpt2_base", "llama_base", "t5_base" })
        {
            string folder = Path.Combine(root, name);
            using var expected = Peft.Transformers.SafeTensors.SafeTensorsFile.Open(Path.Combine(folder, "expected.safetensors"));
            IntTensor Ints(string key) => IntTensor.FromArray(expected.ReadInt32(key), expected.GetInfo(key).Shape);
            float[] Logits(LoadOptions? options)
            {
                using var scope = new TensorScope();
                string baseFolder = Path.Combine(folder, "base");
                if (name.StartsWith("t5", StringComparison.Ordinal))
                    return ModelLoader.LoadSeq2Seq(baseFolder, options).Forward(
                        inputIds: Ints("input.input_ids"), attentionMask: Ints("input.attention_mask"), labels: Ints("input.labels")).Logits.ToArray();
                return ModelLoader.LoadCausal(baseFolder, options).Forward(
                    inputIds: Ints("input.input_ids"), attentionMask: Ints("input.attention_mask")).Logits.ToArray();
            }
            int vocab = ModelConfig.Load(Path.Combine(folder, "base")).VocabSize;
            var reference = Logits(null);
            foreach (var (label, options) in new[] { ("int8", new LoadOptions { Quantization = QuantizationFormat.Int8 }),
                ("nf4", new LoadOptions { Quantization = QuantizationFormat.Nf4 }),
                ("nf4+dq", new LoadOptions { Quantization = QuantizationFormat.Nf4, DoubleQuantization = true }) })
            {
                var q = Logits(options);
                double maxAbs = 0, kl = 0;
                int rows = reference.Length / vocab;
                for (int r = 0; r < rows; r++)
                {
                    var p = Softmax(reference.AsSpan(r * vocab, vocab));
                    var pq = Softmax(q.AsSpan(r * vocab, vocab));
                    for (int i = 0; i < vocab; i++)
                    {
                        maxAbs = Math.Max(maxAbs, Math.Abs(reference[r * vocab + i] - q[r * vocab + i]));
                        if (p[i] > 0) kl += p[i] * Math.Log(p[i] / pq[i]);
                    }
                }
                double range = reference.Max() - reference.Min();
                Console.WriteLine($"{name,-10} {label,-6}: max |Δlogit| {maxAbs:G3} (logit range {range:F2}), mean KL {kl / rows:G3} over {rows} positions");
            }
        }
    }

    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        var e = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < e.Length; i++) sum += e[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < e.Length; i++) e[i] /= sum;
        return e;
    }

    private static string FindFixtures()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "fixtures", "hf"),
                Path.Combine(dir.FullName, "..", "shared", "fixtures", "hf") })
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("../shared/fixtures/hf not found beside the repository.");
    }

    /// <summary>
    /// One activation row against 16-bit weights on one core (the decode step's product), GB/s of weights read: BF16,
    /// F16 through the assembled vcvtph2ps kernel and F16 through the managed widening, for weights that fit in L2/L3
    /// (gpt2-small's block shapes) and one that does not (its 77 MB head).
    /// </summary>
    private static unsafe void HalfRows()
    {
        Console.WriteLine($"--- one row, one core, GB/s of 16-bit weights (assembled F16 kernel available: {Float16RowKernel.IsAvailable})");
        foreach (var (n, k) in new[] { (768, 768), (3072, 768), (768, 3072), (50257, 768) })
        {
            var rng = new Random(1);
            var w = new ushort[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() - 0.5));
            var x = Fill(k, 1f);
            var y = new float[n];
            double bytes = 2.0 * n * k;
            fixed (ushort* pw = w)
            fixed (float* px = x, py = y)
            {
                ushort* wp = pw;
                float* xp = px, yp = py;
                // BestGflops over "bytes / 1e9 GFLOP" gives GB/s.
                double bf16 = GemmSweep.BestGflops(() => HalfDotKernel.MultiplyRow<BFloat16Widening>(xp, k, wp, 0, n, yp, true), bytes);
                double f16 = GemmSweep.BestGflops(() => HalfDotKernel.MultiplyRow<Float16Widening>(xp, k, wp, 0, n, yp, true), bytes);
                HalfDotKernel.t_managedFloat16 = true;
                double managed = GemmSweep.BestGflops(() => HalfDotKernel.MultiplyRow<Float16Widening>(xp, k, wp, 0, n, yp, true), bytes);
                HalfDotKernel.t_managedFloat16 = false;
                Console.WriteLine($"N={n,5} K={k,5} ({bytes / 1e6,5:F1} MB)  bf16 {bf16,5:F1}  f16 {f16,5:F1}  f16 managed {managed,5:F1}  ({f16 / managed:F2}x)");
            }
        }
    }

    private static void Kernels()
    {
        foreach (int threads in new[] { 1, 2 })
        {
            WorkerPool.SetMaxDegree(threads);
            Console.WriteLine($"--- threads {threads} (GFLOP/s, 2·M·N·K per call)");
            foreach (var (n, k) in new[] { (768, 768), (3072, 768), (768, 3072) })
            {
                var wt = Tensor.FromArray(Fill(n * k, 0.05f), n, k);
                var packed = PackedMatrix.Pack(true, k, n, wt.ToArray(), k);
                var i8 = Int8Matrix.Quantize(wt);
                var nf4 = Nf4Matrix.Quantize(wt);
                foreach (int m in new[] { 1, 2, 4, 6, 8, 512 })
                {
                    var x = Fill(m * k, 1f);
                    var y = new float[m * n];
                    double flops = 2.0 * m * n * k;
                    double f = GemmSweep.BestGflops(() => Gemm.Multiply(false, m, 1f, x, k, packed, 0f, y, n), flops);
                    double q8 = GemmSweep.BestGflops(() => QuantizedGemm.MultiplyTransposed(m, x, i8, y), flops);
                    double q4 = GemmSweep.BestGflops(() => QuantizedGemm.MultiplyTransposed(m, x, nf4, y), flops);
                    QuantizedGemm.ForcedIsa = QuantizedIsa.DequantizedTiles;
                    double t8 = GemmSweep.BestGflops(() => QuantizedGemm.MultiplyTransposed(m, x, i8, y), flops);
                    double t4 = GemmSweep.BestGflops(() => QuantizedGemm.MultiplyTransposed(m, x, nf4, y), flops);
                    var dx = new float[m * k];
                    double b4 = GemmSweep.BestGflops(() => QuantizedGemm.MultiplyAccumulate(m, y, nf4, dx), flops);
                    QuantizedGemm.ForcedIsa = QuantizedIsa.Auto;
                    // The int8 kernel with each multiply-add step this CPU runs (the others are what other CPUs get).
                    var steps = new System.Text.StringBuilder();
                    foreach (var step in Enum.GetValues<Int8DotStep>().Where(Int8DotKernel.CanRun))
                    {
                        Int8DotKernel.t_forcedStep = step;
                        steps.Append($" {step} {GemmSweep.BestGflops(() => QuantizedGemm.MultiplyTransposed(m, x, i8, y), flops):F1}");
                    }
                    Int8DotKernel.t_forcedStep = null;
                    Console.WriteLine($"M={m,4} N={n,5} K={k,5}  float {f,6:F1}  int8 {q8,6:F1} ({q8 / f,4:F2}x)  nf4 {q4,6:F1} ({q4 / f,4:F2}x)   " +
                        $"tiles: int8 {t8,6:F1} nf4 {t4,6:F1}  nf4 dX {b4,6:F1}   int8 steps:{steps}");
                }
            }
        }
        WorkerPool.SetMaxDegree(Environment.ProcessorCount);
    }

    private static void Decode()
    {
        foreach (int batch in new[] { 1, 8 })
        {
            double floatRate = 0;
            foreach (var (format, head) in new[] { (QuantizationFormat.None, false), (QuantizationFormat.Int8, false), (QuantizationFormat.Nf4, false),
                (QuantizationFormat.Int8, true), (QuantizationFormat.Nf4, true) })
            {
                long baseline = GC.GetTotalMemory(forceFullCollection: true);
                var model = Gpt2Small();
                if (format != QuantizationFormat.None) ModelQuantization.Quantize(model, format);
                // With a quantized head copy the logits product reads the head in the same format (LoadOptions.QuantizeLmHead).
                if (head) model.QuantizeHead(format);
                GC.Collect();
                var generator = new CausalGenerator(model);
                var r = new Random(1);
                var prompt = IntTensor.FromArray(Enumerable.Range(0, batch * 16).Select(_ => r.Next(1000)).ToArray(), batch, 16);
                var options = new GenerationOptions { MaxNewTokens = 32, EosTokenIds = [] };
                generator.GenerateGreedy(prompt, null, options);
                double best = double.MaxValue;
                for (int t = 0; t < 3; t++)
                {
                    var sw = Stopwatch.StartNew();
                    generator.GenerateGreedy(prompt, null, options);
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                double rate = batch * 32 / best;
                // Managed heap with the model alive after decoding: weights plus the packed copies kernels keep.
                long heap = GC.GetTotalMemory(forceFullCollection: true) - baseline;
                GC.KeepAlive(generator);
                if (format == QuantizationFormat.None) floatRate = rate;
                long linear = model.Parameters.Quantized.Sum(q => q.Matrix.ByteSize) +
                    4L * model.LinearLayers.Where(l => !l.IsQuantized).Sum(l => (long)l.InFeatures * l.OutFeatures);
                Console.WriteLine($"gpt2-small batch {batch} {format + (head ? "+head" : ""),-10}: {rate,7:F1} tok/s ({rate / floatRate:F2}x float)  " +
                    $"weights {model.Parameters.ResidentBytes / 1e6,7:F1} MB, block linear weights {linear / 1e6,6:F1} MB, " +
                    $"heap after decoding {heap / 1e6,7:F1} MB");
            }
        }
    }

    internal static Gpt2Model Gpt2Small()
    {
        var shape = new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = 12, ["n_head"] = 12, ["n_positions"] = 1024
        };
        var model = new Gpt2Model(ModelConfig.Parse(shape.ToJsonString(), "benchmark config"));
        ModelInitializer.InitializeRandom(model.Parameters, 1);
        return model;
    }

    private static float[] Fill(int length, float scale)
    {
        var rng = new Random(1);
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = ((float)rng.NextDouble() - 0.5f) * scale;
        return v;
    }
}
