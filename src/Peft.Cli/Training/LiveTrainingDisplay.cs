using System.Globalization;
using Peft.Tuners.Training;
using Spectre.Console;

namespace Peft.Cli.Training;

/// <summary>Progress as a Spectre.Console live bar (stdout is a terminal): epoch, step/total, loss, learning rate, tokens/s, a bar and the ETA.</summary>
internal sealed class LiveTrainingDisplay(IAnsiConsole console, int stepsPerEpoch, int epochs) : TrainingDisplay(stepsPerEpoch, epochs)
{
    private ProgressTask? _task;

    public override T Run<T>(Func<T> training) => console.Progress()
        .AutoClear(false)
        // Narrow columns: the description carries the figures and an 80-column terminal must hold the line.
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 15 }, new RemainingTimeColumn())
        .Start(context =>
        {
            _task = context.AddTask("starting", maxValue: 1);
            return training();
        });

    public override void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.EvaluationLoss is float eval)
        {
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"[green]epoch {EpochOf(value.Step)}/{Epochs}[/] eval loss [bold]{eval:F4}[/] perplexity [bold]{Math.Exp(eval):F2}[/]"));
            return;
        }
        if (_task is null) return;
        _task.MaxValue = value.TotalSteps;
        _task.Value = value.Step;
        _task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {EpochOf(value.Step)}/{Epochs} {value.Step}/{value.TotalSteps} loss {value.Loss:F4} lr {value.LearningRate:0.0e+00} {value.TokensPerSecond:F0} tok/s"));
    }

    public override void Message(string text) => console.WriteLine(text);
}
