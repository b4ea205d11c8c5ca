using System.Diagnostics;
using System.Globalization;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>
/// The same rows as <see cref="EncodeBenchmarks"/>, timed with a stopwatch and interleaved (every
/// round runs each row once, in turn), reporting the best and the median round: on a machine that
/// others share, the best round of rows run side by side is the steadiest comparison.
/// </summary>
internal static class Interleaved
{
    public static void Run(int rounds)
    {
        var bench = new EncodeBenchmarks();
        Console.WriteLine($"corpus: {Corpus.Paragraphs.Length:N0} paragraphs, {Corpus.Bytes:N0} UTF-8 bytes; " +
            $"{rounds} interleaved rounds after 3 warm-up rounds");
        Console.WriteLine("| vocabulary | row | best MB/s | median MB/s | allocated per call |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (string vocabulary in new[] { "gpt2", "llama3", "mistral" })
        {
            bench.Vocabulary = vocabulary;
            bench.Setup();
            (string Name, Func<int> Run)[] rows =
            [
                ("ours: Encode (ids, tokens, offsets)", bench.OursEncode),
                ("ours: EncodeToIds (ML.NET API)", bench.OursIds),
                ("ML.NET: EncodeToIds", bench.TheirsIds),
                ("ML.NET: EncodeToTokens", bench.TheirsTokens),
                ("ours: EncodeToIds, 2 threads", bench.OursIdsTwoThreads),
                ("ML.NET: EncodeToIds, 2 threads", bench.TheirsIdsTwoThreads),
            ];
            var times = rows.Select(_ => new List<double>()).ToArray();
            var allocated = new long[rows.Length];
            for (int round = -3; round < rounds; round++)
                for (int r = 0; r < rows.Length; r++)
                {
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    var watch = Stopwatch.StartNew();
                    rows[r].Run();
                    watch.Stop();
                    if (round < 0) continue;
                    times[r].Add(watch.Elapsed.TotalSeconds);
                    allocated[r] += GC.GetTotalAllocatedBytes(precise: true) - before;
                }
            for (int r = 0; r < rows.Length; r++)
            {
                var sorted = times[r].Order().ToArray();
                double best = Corpus.Bytes / sorted[0] / 1e6, median = Corpus.Bytes / sorted[sorted.Length / 2] / 1e6;
                long perCall = allocated[r] / rounds / Corpus.Paragraphs.Length;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {vocabulary} | {rows[r].Name} | {best:F1} | {median:F1} | {perCall:N0} B |"));
            }
        }
    }
}
