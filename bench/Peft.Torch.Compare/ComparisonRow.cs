namespace Peft.Torch.Compare;

/// <summary>
/// One row of the table: the arguments both programs take (tsbench's names), and whether it measures a training step
/// (seconds, lower is better) or decoding (tokens/s, higher is better).
/// </summary>
internal sealed record ComparisonRow(string Name, string Mode, int Batch, int Sequence)
{
    public bool IsTraining => Mode != "gen";

    /// <summary>The rows of the table.</summary>
    public static IReadOnlyList<ComparisonRow> All { get; } =
    [
        new("prefix step 4x128", "prefix", 4, 128),
        new("LoRA step 4x128", "lora", 4, 128),
        new("prefix step 1x512", "prefix", 1, 512),
        new("LoRA step 1x512", "lora", 1, 512),
        new("prefix step 16x128", "prefix", 16, 128),
        new("LoRA step 16x128", "lora", 16, 128),
        new("decode b=1 fp32 (32+64)", "gen", 1, 32),
        new("decode b=8 fp32 (32+64)", "gen", 8, 32),
    ];

    /// <summary>The arguments after the program: the same on both sides (ours adds its loss choice).</summary>
    public IEnumerable<string> Arguments(ComparisonOptions options)
    {
        string[] common = ["--size", options.Size, "--mode", Mode, "--batch", $"{Batch}", "--threads", $"{options.Threads}", "--runs", $"{options.Runs}"];
        return IsTraining ? [.. common, "--seq", $"{Sequence}"] : [.. common, "--prompt", $"{Sequence}", "--new", "64"];
    }
}
