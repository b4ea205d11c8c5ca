using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Peft.Onnx.Benchmarks;

/// <summary>
/// The ORT baseline: one graph made by bench/onnx/export_gpt2.py (input_ids, position_ids, past_key_i/past_value_i in;
/// logits, present_key_i/present_value_i out) run through IOBinding into preallocated buffers, with the KV cache kept in
/// <see cref="KeyValueBuffers"/> between steps. Session: graph optimization ALL, 2 intra-op threads, 1 inter-op thread.
/// A "last" graph (gpt2_last*.onnx) scores only each row's last position: its logits are [B, 1, V] whatever T is.
/// </summary>
internal sealed class OrtGpt2 : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtIoBinding _binding;
    private readonly int _layers, _heads, _headDim;
    private readonly bool _lastOnly;

    public OrtGpt2(string path, int layers, int heads, int headDim, int vocab, bool lastOnly = false)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = 2,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        // ORT's pool spins while waiting for work (its default, kept for the real measurement); on a loaded machine the
        // spinning threads compete with everything else, so PEFT_ORT_SPIN=0 turns it off for a second look.
        if (!Spinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // PEFT_ORT_OPTIMIZED=DIR writes the graphs as ORT optimized them (to see which fusions applied).
        if (Environment.GetEnvironmentVariable("PEFT_ORT_OPTIMIZED") is { Length: > 0 } dump)
            options.OptimizedModelFilePath = Path.Combine(dump, "optimized_" + Path.GetFileName(path));
        _session = new InferenceSession(path, options);
        _binding = _session.CreateIoBinding();
        (_layers, _heads, _headDim, Vocab, _lastOnly) = (layers, heads, headDim, vocab, lastOnly);
    }

    public int Vocab { get; }

    /// <summary>Whether ORT's intra-op threads spin (default) or not (environment PEFT_ORT_SPIN=0).</summary>
    public static bool Spinning => Environment.GetEnvironmentVariable("PEFT_ORT_SPIN") != "0";

    /// <summary>Buffers for a case of <paramref name="batch"/> rows and up to <paramref name="capacity"/> positions.</summary>
    public KeyValueBuffers NewCache(int batch, int capacity) => new(2 * _layers, batch, _heads, _headDim, capacity);

    /// <summary>
    /// One forward of <paramref name="length"/> new tokens per row (ids [batch·length] from <paramref name="ids"/>) after
    /// <paramref name="past"/> cached positions; logits [batch, length (1 for a last graph), vocab] land in <paramref name="logits"/>.
    /// </summary>
    public void Step(KeyValueBuffers cache, NativeBuffer<long> ids, NativeBuffer<long> positions, int batch, int length, int past,
        NativeBuffer<float> logits)
    {
        var values = new List<OrtValue>(4 * _layers + 3);
        try
        {
            // One binding for the session's life; each step rebinds the views of that step's buffers.
            var binding = _binding;
            binding.ClearBoundInputs();
            binding.ClearBoundOutputs();
            int scored = LogitRows(length);
            unsafe
            {
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Int64, [batch, length],
                    (nint)ids.Pointer, (long)batch * length * sizeof(long)));
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Int64, [batch, length],
                    (nint)positions.Pointer, (long)batch * length * sizeof(long)));
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [batch, scored, Vocab],
                    (nint)logits.Pointer, (long)batch * scored * Vocab * sizeof(float)));
            }
            binding.BindInput("input_ids", values[0]);
            binding.BindInput("position_ids", values[1]);
            binding.BindOutput("logits", values[2]);
            for (int i = 0; i < 2 * _layers; i++)
            {
                string name = $"{(i % 2 == 0 ? "key" : "value")}_{i / 2}";
                var pastValue = cache.Past(i, past);
                values.Add(pastValue);
                binding.BindInput("past_" + name, pastValue);
                var present = cache.Present(i, past + length);
                values.Add(present);
                binding.BindOutput("present_" + name, present);
            }
            _session.RunWithBinding(_run, binding);
            cache.Swap();
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Prefill time in seconds: one forward of [batch, length] from an empty cache.</summary>
    public double Prefill(int[] prompt, int batch, int length, out float[] lastLogits)
    {
        using var cache = NewCache(batch, length);
        using var ids = Ids(prompt);
        using var positions = Positions(batch, length, 0);
        int scored = LogitRows(length);
        using var logits = new NativeBuffer<float>((long)batch * scored * Vocab);
        var clock = Stopwatch.StartNew();
        Step(cache, ids, positions, batch, length, 0, logits);
        double seconds = clock.Elapsed.TotalSeconds;
        lastLogits = new float[batch * Vocab];
        for (int b = 0; b < batch; b++)
            logits.Span(((long)b * scored + scored - 1) * Vocab, Vocab).CopyTo(lastLogits.AsSpan(b * Vocab, Vocab));
        return seconds;
    }

    /// <summary>
    /// Greedy generation of <paramref name="newTokens"/> tokens per row (argmax over each row's last logits, here in C#,
    /// no end-of-sequence stop); returns the new ids [batch][newTokens] and the time after the first token (decode).
    /// </summary>
    public (int[][] Ids, double DecodeSeconds) Generate(int[] prompt, int batch, int length, int newTokens)
    {
        using var cache = NewCache(batch, length + newTokens);
        using var promptIds = Ids(prompt);
        using var promptPositions = Positions(batch, length, 0);
        int scored = LogitRows(length);
        using var promptLogits = new NativeBuffer<float>((long)batch * scored * Vocab);
        using var stepIds = new NativeBuffer<long>(batch);
        using var stepPositions = new NativeBuffer<long>(batch);
        using var stepLogits = new NativeBuffer<float>((long)batch * Vocab);
        var result = Enumerable.Range(0, batch).Select(_ => new int[newTokens]).ToArray();
        Step(cache, promptIds, promptPositions, batch, length, 0, promptLogits);
        for (int b = 0; b < batch; b++)
            result[b][0] = ArgMax(promptLogits.Span(((long)b * scored + scored - 1) * Vocab, Vocab));
        var clock = Stopwatch.StartNew();
        for (int t = 1; t < newTokens; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                stepIds.Span(b, 1)[0] = result[b][t - 1];
                stepPositions.Span(b, 1)[0] = length + t - 1;
            }
            Step(cache, stepIds, stepPositions, batch, 1, length + t - 1, stepLogits);
            for (int b = 0; b < batch; b++) result[b][t] = ArgMax(stepLogits.Span((long)b * Vocab, Vocab));
        }
        return (result, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Positions per row the graph scores for <paramref name="length"/> new tokens.</summary>
    private int LogitRows(int length) => _lastOnly ? 1 : length;

    /// <summary>The first index of the largest value (ties go to the lower id).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }

    private static NativeBuffer<long> Ids(int[] ids)
    {
        var buffer = new NativeBuffer<long>(ids.Length);
        var span = buffer.Span(0, ids.Length);
        for (int i = 0; i < ids.Length; i++) span[i] = ids[i];
        return buffer;
    }

    private static NativeBuffer<long> Positions(int batch, int length, int start)
    {
        var buffer = new NativeBuffer<long>((long)batch * length);
        var span = buffer.Span(0, batch * length);
        for (int i = 0; i < span.Length; i++) span[i] = start + i % length;
        return buffer;
    }

    public void Dispose()
    {
        _binding.Dispose();
        _run.Dispose();
        _session.Dispose();
    }
}
