using BenchmarkDotNet.Running;
using Peft.MLNet.Benchmarks;

// dotnet run -c Release --project bench/Peft.MLNet.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(PluginOverheadBenchmarks).Assembly).Run(args);
