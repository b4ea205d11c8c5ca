using System.Diagnostics;
using System.Globalization;
using Peft.Tensors;

namespace Peft.Benchmarks;

/// <summary>
/// Prefill (the prompt's forward pass, filling a cache) tokens/s of a gpt2-small-shaped random model:
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- prefill [batch] [length] [runs]</c>; best of the runs (5) after
/// a warm-up (more runs make a longer process to profile). Then the time to generation's first token (greedy, one new
/// token: the same prompt pass as CausalGenerator runs it, which scores the last position only).
/// </summary>
internal static class PrefillThroughput
{
    public static void Run(string[] args)
    {
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
        int length = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 512;
        int runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
        var model = QuantizedQuickCheck.Gpt2Small();
        var r = new Random(1);
        var ids = IntTensor.FromArray(Enumerable.Range(0, batch * length).Select(_ => r.Next(50257)).ToArray(), batch, length);
        double best = double.MaxValue;
        for (int i = 0; i <= runs; i++)
        {
            var cache = new Peft.Transformers.Caching.DynamicCache(model.CacheLayoutFor(batch), length);
            var clock = Stopwatch.StartNew();
            using (Autograd.NoGrad())
            using (new TensorScope())
                model.Forward(inputIds: ids, cache: cache);
            if (i > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"gpt2-small prefill, batch {batch} x {length}: {batch * length / best:F0} tok/s ({best * 1000:F0} ms)");
        var generator = new Peft.Transformers.Generation.CausalGenerator(model);
        var options = new Peft.Transformers.Generation.GenerationOptions { MaxNewTokens = 1, EosTokenIds = [] };
        best = double.MaxValue;
        for (int i = 0; i <= runs; i++)
        {
            var clock = Stopwatch.StartNew();
            generator.GenerateGreedy(ids, null, options);
            if (i > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"gpt2-small generation's first token, batch {batch} x {length}: {best * 1000:F0} ms ({batch * length / best:F0} prompt tok/s)");
    }
}
