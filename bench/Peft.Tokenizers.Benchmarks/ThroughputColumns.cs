using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Peft.Tokenizers.Benchmarks;

/// <summary>MB/s of corpus text (UTF-8 bytes / mean) and bytes allocated per encode call (per paragraph).</summary>
public sealed class ThroughputColumns(string id, string name, string legend, Func<Summary, BenchmarkReport, string> value) : IColumn
{
    public static readonly IColumn MegabytesPerSecond = new ThroughputColumns("MBps", "MB/s", "Corpus UTF-8 megabytes (10^6) per second, from the mean",
        (_, r) => (Corpus.Bytes / r.ResultStatistics!.Mean * 1e9 / 1e6).ToString("F2", CultureInfo.InvariantCulture));

    public static readonly IColumn AllocatedPerCall = new ThroughputColumns("AllocCall", "Alloc/call", "Managed bytes allocated per encode call (one paragraph)",
        (_, r) => r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) is long bytes
            ? (bytes / (double)Corpus.Paragraphs.Length).ToString("N0", CultureInfo.InvariantCulture) + " B" : "-");

    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase] is { ResultStatistics: not null } report ? value(summary, report) : "-";
}
