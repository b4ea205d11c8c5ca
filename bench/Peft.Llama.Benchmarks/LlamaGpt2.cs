using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Peft.Llama.Benchmarks;

/// <summary>
/// llama.cpp's side through LLamaSharp's low-level API, as a .NET user drives batched greedy decoding: one context per
/// batch size (a sequence id per row, its own KV cache stream), each step one llama_batch holding every row's token,
/// greedy selection an argmax per row over the logits llama.cpp returns.
/// </summary>
internal sealed class LlamaGpt2 : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly Dictionary<int, LLamaContext> _contexts = [];
    private readonly GGMLType? _cacheType;
    private readonly string _path;

    /// <param name="path">The GGUF.</param>
    /// <param name="cacheType">KV cache type; null keeps llama.cpp's default (f16).</param>
    public LlamaGpt2(string path, GGMLType? cacheType = null)
    {
        _path = path;
        _cacheType = cacheType;
        _weights = LLamaWeights.LoadFromFile(Parameters(1));
        Vocab = _weights.Vocab.Count;
    }

    public int Vocab { get; }

    /// <summary>Greedy generation from [batch, length] prompts, no end-of-sequence stop, as ours is timed.</summary>
    /// <returns>The new ids per row, the first step's logits per row, the prefill time (prompt through the first
    /// token) and the decode time (the tokens after the first).</returns>
    public (int[][] Ids, float[] FirstLogits, double PrefillSeconds, double DecodeSeconds) Generate(int[] prompt, int batch, int length, int newTokens)
    {
        var context = Context(batch);
        var handle = context.NativeHandle;
        handle.MemoryClear();
        var ids = Enumerable.Range(0, batch).Select(_ => new int[newTokens]).ToArray();
        var firstLogits = new float[batch * Vocab];
        var rowIndex = new int[batch];
        var llamaBatch = new LLamaBatch();
        var clock = Stopwatch.StartNew();
        for (int b = 0; b < batch; b++)
        {
            var tokens = prompt.AsSpan(b * length, length).ToArray().Select(t => (LLamaToken)t).ToArray();
            rowIndex[b] = llamaBatch.AddRange(tokens, 0, (LLamaSeqId)b, true);
        }
        Decode(handle, llamaBatch);
        for (int b = 0; b < batch; b++)
        {
            var logits = handle.GetLogitsIth(rowIndex[b]);
            logits.CopyTo(firstLogits.AsSpan(b * Vocab, Vocab));
            ids[b][0] = ArgMax(logits);
        }
        double prefill = clock.Elapsed.TotalSeconds;
        for (int step = 1; step < newTokens; step++)
        {
            llamaBatch.Clear();
            for (int b = 0; b < batch; b++) rowIndex[b] = llamaBatch.Add(ids[b][step - 1], length + step - 1, (LLamaSeqId)b, true);
            Decode(handle, llamaBatch);
            for (int b = 0; b < batch; b++) ids[b][step] = ArgMax(handle.GetLogitsIth(rowIndex[b]));
        }
        return (ids, firstLogits, prefill, clock.Elapsed.TotalSeconds - prefill);
    }

    public void Dispose()
    {
        foreach (var c in _contexts.Values) c.Dispose();
        _weights.Dispose();
    }

    /// <summary>The first index of the largest value (ties to the lowest id, as ours and torch's argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    private static void Decode(SafeLLamaContextHandle handle, LLamaBatch batch)
    {
        var result = handle.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {result}");
    }

    private LLamaContext Context(int batch)
    {
        if (!_contexts.TryGetValue(batch, out var context)) _contexts[batch] = context = _weights.CreateContext(Parameters(batch));
        return context;
    }

    // 2 threads for single-token and batch evaluation; 128 cache cells per sequence (32 + 64 fit); n_batch covers a
    // whole batch-8 prompt in one llama_decode.
    private ModelParams Parameters(int batch) => new(_path)
    {
        GpuLayerCount = 0,
        ContextSize = (uint)(128 * batch),
        SeqMax = (uint)batch,
        BatchSize = 512,
        UBatchSize = 512,
        Threads = 2,
        BatchThreads = 2,
        TypeK = _cacheType,
        TypeV = _cacheType,
    };
}
