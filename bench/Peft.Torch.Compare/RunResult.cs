using System.Globalization;
using System.Text.Json.Nodes;

namespace Peft.Torch.Compare;

/// <summary>What one process reported: its row's figure (step median in seconds, or decode tokens/s) and its peak RSS.</summary>
internal sealed record RunResult(double Value, double PeakMiB, string Note)
{
    /// <summary>Reads the last JSON line of a tsbench-style output.</summary>
    public static RunResult Parse(string output, ComparisonRow row)
    {
        string line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"No JSON line in the output: {output}");
        var json = JsonNode.Parse(line)!.AsObject();
        double peak = json["vm_hwm_mib"]!.GetValue<double>();
        if (row.IsTraining)
        {
            var losses = json["losses_first_last"]!.AsArray();
            var step = json["step_s"]!;
            return new RunResult(step["median"]!.GetValue<double>(), peak, string.Create(CultureInfo.InvariantCulture,
                $"step {step["median"]!.GetValue<double>():F3} s (min {step["min"]!.GetValue<double>():F3}), " +
                $"loss {losses[0]!.GetValue<double>():F3} -> {losses[1]!.GetValue<double>():F3}, trainable {json["trainable_params"]}"));
        }
        double decode = json["tok_per_s_decode"]!.GetValue<double>();
        return new RunResult(decode, peak, string.Create(CultureInfo.InvariantCulture,
            $"decode {decode:F1} tok/s, prefill {json["prefill_s"]!["median"]!.GetValue<double>():F3} s"));
    }
}
