using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Peft.Benchmarks;

/// <summary>
/// Short in-process jobs (2 warmups, 5 iterations of ~200 ms) so the whole GEMM suite runs in
/// about ten minutes, plus GFLOP/s columns computed from the mean and the best iteration.
/// </summary>
public sealed class GemmBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public GemmBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(200)));
        AddColumn(new GflopsColumn(best: false), new GflopsColumn(best: true));
        HideColumns(Column.Error, Column.StdDev, Column.Median);
    }

    /// <summary>GFLOP/s of a benchmark case, from its parameters (Size or M/K/N) and its time.</summary>
    private sealed class GflopsColumn(bool best) : IColumn
    {
        public string Id => best ? "GflopsBest" : "Gflops";
        public string ColumnName => best ? "Best GFLOP/s" : "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => best ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend =>
            best ? "Floating-point operations per second of the fastest iteration (10^9)" : "Floating-point operations per second at the mean time (10^9)";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            double flops = Flops(benchmarkCase);
            if (stats is null || flops <= 0) return "-";
            double ns = best ? stats.Min : stats.Mean;
            return (flops / ns).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        private static double Flops(BenchmarkCase benchmarkCase)
        {
            var p = benchmarkCase.Parameters;
            if (benchmarkCase.Descriptor.Type == typeof(GemmPeakFmaBenchmarks))
                return PeakFma.FlopsPerThread * Convert.ToInt32(p["Threads"]);
            if (p.Items.Any(i => i.Name == "Size"))
            {
                double s = Convert.ToInt32(p["Size"]);
                return 2 * s * s * s;
            }
            if (p.Items.Any(i => i.Name == "Shape"))
            {
                var shape = (GemmShape)p["Shape"];
                return 2.0 * shape.M * shape.K * shape.N;
            }
            return 0;
        }
    }
}
