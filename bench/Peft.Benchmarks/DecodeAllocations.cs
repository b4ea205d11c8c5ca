using Peft.Tensors;
using Peft.Transformers.Generation;

namespace Peft.Benchmarks;

/// <summary>
/// Bytes the decoding loop allocates per generated token (gpt2-small shape, batch 1, KV cache):
/// <c>dotnet run -c Release --project bench/Peft.Benchmarks -- decode-alloc</c>.
/// </summary>
internal static class DecodeAllocations
{
    public static void Run()
    {
        var model = QuantizedQuickCheck.Gpt2Small();
        var generator = new CausalGenerator(model);
        var prompt = IntTensor.FromArray(Enumerable.Range(0, 16).Select(i => 100 + i).ToArray(), 1, 16);
        foreach (bool staticCache in new[] { false, true })
        {
            var options = new GenerationOptions { MaxNewTokens = 64, EosTokenIds = [], UseStaticCache = staticCache };
            generator.Generate(prompt, null, options with { MaxNewTokens = 8 });
            long before = GC.GetAllocatedBytesForCurrentThread();
            generator.Generate(prompt, null, options with { MaxNewTokens = 8 });
            long eight = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            generator.Generate(prompt, null, options);
            long sixtyFour = GC.GetAllocatedBytesForCurrentThread() - before;
            // The difference of two runs removes the prompt's (prefill) share.
            Console.WriteLine($"{(staticCache ? "static" : "dynamic")} cache: {(sixtyFour - eight) / 56.0 / 1024:F1} KB allocated per generated token");
        }
    }
}
