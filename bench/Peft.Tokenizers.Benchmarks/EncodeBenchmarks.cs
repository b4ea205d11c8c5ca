using BenchmarkDotNet.Attributes;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>
/// Encode throughput, ours against ML.NET's on the same vocabulary and text: every corpus
/// paragraph encoded in its own call (no special tokens), on one thread and split over two.
/// One operation = the whole corpus; MB/s and allocations per call come from <see cref="ThroughputColumns"/>.
/// </summary>
[Config(typeof(EncodeConfig))]
public class EncodeBenchmarks
{
    private Tokenizer _ours = null!;
    private MLTokenizer _oursAsMl = null!;
    private MLTokenizer _theirs = null!;
    private string[] _paragraphs = [];

    /// <summary>gpt2 or llama3 (byte-level BPE vs TiktokenTokenizer on the same ranks) or mistral (SentencePiece BPE vs LlamaTokenizer).</summary>
    [Params("gpt2", "llama3", "mistral")]
    public string Vocabulary { get; set; } = "gpt2";

    [GlobalSetup]
    public void Setup()
    {
        (_ours, _theirs) = Tokenizers.Pair(Vocabulary);
        _oursAsMl = _ours;
        _paragraphs = Corpus.Paragraphs;
    }

    [Benchmark(Description = "ours: Encode (ids, tokens, offsets)")]
    [BenchmarkCategory("1 thread")]
    public int OursEncode()
    {
        int n = 0;
        foreach (string p in _paragraphs) n += _ours.Encode(p, addSpecialTokens: false).Ids.Count;
        return n;
    }

    [Benchmark(Description = "ours: EncodeToIds (ML.NET API)")]
    [BenchmarkCategory("1 thread")]
    public int OursIds()
    {
        int n = 0;
        foreach (string p in _paragraphs) n += _oursAsMl.EncodeToIds(p).Count;
        return n;
    }

    [Benchmark(Baseline = true, Description = "ML.NET: EncodeToIds")]
    [BenchmarkCategory("1 thread")]
    public int TheirsIds()
    {
        int n = 0;
        foreach (string p in _paragraphs) n += _theirs.EncodeToIds(p).Count;
        return n;
    }

    [Benchmark(Description = "ML.NET: EncodeToTokens")]
    [BenchmarkCategory("1 thread")]
    public int TheirsTokens()
    {
        int n = 0;
        foreach (string p in _paragraphs) n += _theirs.EncodeToTokens(p, out _).Count;
        return n;
    }

    [Benchmark(Description = "ours: EncodeToIds, 2 threads")]
    [BenchmarkCategory("2 threads")]
    public int OursIdsTwoThreads() => TwoThreads(p => _oursAsMl.EncodeToIds(p).Count);

    [Benchmark(Baseline = true, Description = "ML.NET: EncodeToIds, 2 threads")]
    [BenchmarkCategory("2 threads")]
    public int TheirsIdsTwoThreads() => TwoThreads(p => _theirs.EncodeToIds(p).Count);

    /// <summary>The paragraphs split between two threads, every other paragraph each (a batch served by two workers).</summary>
    private int TwoThreads(Func<string, int> encode)
    {
        int a = 0, b = 0;
        Parallel.Invoke(new ParallelOptions { MaxDegreeOfParallelism = 2 },
            () => { for (int i = 0; i < _paragraphs.Length; i += 2) a += encode(_paragraphs[i]); },
            () => { for (int i = 1; i < _paragraphs.Length; i += 2) b += encode(_paragraphs[i]); });
        return a + b;
    }
}
