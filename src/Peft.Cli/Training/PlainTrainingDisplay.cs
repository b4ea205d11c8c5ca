using System.Globalization;
using Peft.Tuners.Training;

namespace Peft.Cli.Training;

/// <summary>Progress as plain lines (stdout redirected: logs, CI, tests).</summary>
internal sealed class PlainTrainingDisplay(TextWriter output, int stepsPerEpoch, int epochs) : TrainingDisplay(stepsPerEpoch, epochs)
{
    public override void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.EvaluationLoss is float eval)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {EpochOf(value.Step)}/{Epochs} eval loss {eval:F4} perplexity {Math.Exp(eval):F2}"));
        else
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {EpochOf(value.Step)}/{Epochs} step {value.Step}/{value.TotalSteps} loss {value.Loss:F4} lr {value.LearningRate:E2} " +
                $"{value.TokensPerSecond:F0} tok/s eta {Eta(value.Remaining)}"));
        output.Flush();
    }

    public override void Message(string text)
    {
        output.WriteLine(text);
        output.Flush();
    }
}
