using BenchmarkDotNet.Running;
using Peft.Tokenizers.Benchmarks;

// dotnet run -c Release --project bench/Peft.Tokenizers.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Peft.Tokenizers.Benchmarks -- check   (ids agree, corpus size; no timing)
// dotnet run -c Release --project bench/Peft.Tokenizers.Benchmarks -- interleaved [rounds]   (stopwatch, rows side by side)
if (args is ["check"])
{
    Check.Run();
    return;
}
if (args is ["interleaved", ..])
{
    Interleaved.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(EncodeBenchmarks).Assembly).Run(args);
