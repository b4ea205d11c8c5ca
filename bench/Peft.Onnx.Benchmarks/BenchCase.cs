namespace Peft.Onnx.Benchmarks;

/// <summary>
/// One row of the table: a rate (tokens/s) measured for ours and for ORT, plus a check of their outputs made on the
/// warm-up run. Each run returns its rate and a check value the <see cref="Compare"/> function reads.
/// </summary>
internal sealed record BenchCase(string Name, Func<(double Rate, object Output)> Ours, Func<(double Rate, object Output)> Ort,
    Func<object, object, string> Compare)
{
    public List<double> OursRates { get; } = [];

    public List<double> OrtRates { get; } = [];

    public string Check { get; set; } = "";
}
