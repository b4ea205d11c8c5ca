using BenchmarkDotNet.Running;
using Peft.Benchmarks;

if (args.Length > 0 && args[0] == "decode-alloc")
{
    DecodeAllocations.Run();
    return;
}
if (args.Length > 0 && args[0] == "load-memory")
{
    LoadMemory.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "prefill")
{
    PrefillThroughput.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "packed-cold")
{
    ColdPackedGemm.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "train-memory")
{
    PeftTrainingMemory.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "json")
{
    ComparisonRun.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "quality")
{
    AdapterQuality.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "quick")
{
    QuickCheck.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "blocking")
{
    BlockingSweep.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "quant")
{
    QuantizedQuickCheck.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "cli-startup")
{
    CliStartup.Run(args);
    return;
}
if (args.Length > 0 && args[0] == "cli-stats")
{
    CliStats.Run(args);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(OpenBlas).Assembly).Run(args);
