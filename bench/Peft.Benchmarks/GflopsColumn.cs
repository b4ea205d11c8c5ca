using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Peft.Benchmarks;

/// <summary>
/// GFLOP/s from the benchmark's <c>Flops</c> parameter-derived count (2·M·N·K for a product),
/// using the fastest iteration, as is usual for kernel throughput.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => "GFLOPS";
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floating-point operations per second (billions), from the fastest iteration";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null || benchmarkCase.Descriptor.WorkloadMethod.DeclaringType is not { } type) return "-";
        if (Activator.CreateInstance(type) is not IFlopCount counter) return "-";
        foreach (var p in benchmarkCase.Parameters.Items)
            type.GetProperty(p.Name)?.SetValue(counter, p.Value);
        double flops = counter.FlopsPerInvocation;
        return (flops / report.ResultStatistics.Min).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Benchmarks that know how many floating-point operations one invocation performs.</summary>
public interface IFlopCount
{
    double FlopsPerInvocation { get; }
}
