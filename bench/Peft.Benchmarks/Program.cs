using BenchmarkDotNet.Running;
using Peft.Benchmarks;

// Full suites:  dotnet run -c Release --project bench/Peft.Benchmarks -- --filter '*Gemm*'
// Quick check:  dotnet run -c Release --project bench/Peft.Benchmarks -- quick
if (args is ["quick", ..])
{
    QuickGemm.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
