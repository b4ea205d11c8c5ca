using BenchmarkDotNet.Running;
using Peft.MLNet.Benchmarks;

// dotnet run -c Release --project bench/Peft.MLNet.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Peft.MLNet.Benchmarks -- fit-alternating [d128-l4|d768-l12] [rounds]
if (args.Length > 0 && args[0] == "fit-alternating")
{
    AlternatingFit.Run(args);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(PluginOverheadBenchmarks).Assembly).Run(args);
