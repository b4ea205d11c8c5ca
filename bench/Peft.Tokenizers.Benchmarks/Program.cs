using BenchmarkDotNet.Running;
using Peft.Tokenizers.Benchmarks;

// dotnet run -c Release --project bench/Peft.Tokenizers.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Peft.Tokenizers.Benchmarks -- check   (ids agree, corpus size; no timing)
if (args is ["check"])
{
    Check.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(EncodeBenchmarks).Assembly).Run(args);
